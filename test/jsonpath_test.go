package test

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Typed access to decoded templates. A template that changes shape fails
// the test that reads it with the JSON path and what was found there,
// instead of a panicking type assertion that aborts the whole package (and
// every other test of the shared synthesis with it).

// jsonAt walks v along path: a string selects a key of an object, an int an
// element of an array. The error names the path (a JSON Pointer, RFC 6901)
// as far as it went.
func jsonAt(v any, path ...any) (any, error) {
	var at strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case string:
			fmt.Fprintf(&at, "/%s", strings.NewReplacer("~", "~0", "/", "~1").Replace(k))
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: parent is %s, not an object", at.String(), describe(v))
			}
			if v, ok = m[k]; !ok {
				return nil, fmt.Errorf("%s: missing (keys: %s)", at.String(), keys(m))
			}
		case int:
			fmt.Fprintf(&at, "/%d", k)
			l, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: parent is %s, not an array", at.String(), describe(v))
			}
			if k < 0 || k >= len(l) {
				return nil, fmt.Errorf("%s: out of range (%d elements)", at.String(), len(l))
			}
			v = l[k]
		default:
			return nil, fmt.Errorf("%s/%v: a path element is a string key or an int index, not %T", at.String(), p, p)
		}
	}
	return v, nil
}

// typed is jsonAt's value as T, or an error naming the path and what is there.
func typed[T any](want string, v any, path ...any) (T, error) {
	var zero T
	x, err := jsonAt(v, path...)
	if err != nil {
		return zero, err
	}
	out, ok := x.(T)
	if !ok {
		return zero, fmt.Errorf("%s: %s, want %s", pointer(path), describe(x), want)
	}
	return out, nil
}

func obj(t testing.TB, v any, path ...any) map[string]any {
	t.Helper()
	x, err := typed[map[string]any]("an object", v, path...)
	check(t, err)
	return x
}

func list(t testing.TB, v any, path ...any) []any {
	t.Helper()
	x, err := typed[[]any]("an array", v, path...)
	check(t, err)
	return x
}

func str(t testing.TB, v any, path ...any) string {
	t.Helper()
	x, err := typed[string]("a string", v, path...)
	check(t, err)
	return x
}

func num(t testing.TB, v any, path ...any) float64 {
	t.Helper()
	x, err := typed[float64]("a number", v, path...)
	check(t, err)
	return x
}

// check fails t with err, whose text carries the JSON path.
func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("template JSON %v", err)
	}
}

func pointer(path []any) string {
	var b strings.Builder
	for _, p := range path {
		fmt.Fprintf(&b, "/%v", p)
	}
	if b.Len() == 0 {
		return "(root)"
	}
	return b.String()
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object with keys " + keys(x)
	case []any:
		return "an array of " + strconv.Itoa(len(x))
	case string:
		return "the string " + strconv.Quote(x)
	default:
		return fmt.Sprintf("%T %s", v, mustJSON(v))
	}
}

func keys(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return "[" + strings.Join(ks, " ") + "]"
}

func TestJSONPathHelpers(t *testing.T) {
	doc := map[string]any{"Resources": map[string]any{"Fn": map[string]any{
		"Properties": map[string]any{"Timeout": 10.0, "Layers": []any{"a"}, "a/b": "x"},
	}}}
	if got := num(t, doc, "Resources", "Fn", "Properties", "Timeout"); got != 10 {
		t.Errorf("num = %v", got)
	}
	if got := str(t, doc, "Resources", "Fn", "Properties", "Layers", 0); got != "a" {
		t.Errorf("str = %v", got)
	}
	for _, tc := range []struct {
		path []any
		want string
	}{
		{[]any{"Resources", "Gone", "Properties"}, `/Resources/Gone: missing (keys: [Fn])`},
		{[]any{"Resources", "Fn", "Properties", "Timeout", "x"}, `/Resources/Fn/Properties/Timeout/x: parent is float64 10, not an object`},
		{[]any{"Resources", "Fn", "Properties", "Layers", 3}, `/Resources/Fn/Properties/Layers/3: out of range (1 elements)`},
		{[]any{"Resources", "Fn", "Properties", "a/b", "c"}, `/Resources/Fn/Properties/a~1b/c: parent is the string "x", not an object`},
	} {
		if _, err := jsonAt(doc, tc.path...); err == nil || err.Error() != tc.want {
			t.Errorf("jsonAt(%v): %v, want %s", tc.path, err, tc.want)
		}
	}
	if _, err := typed[string]("a string", doc, "Resources", "Fn", "Properties", "Timeout"); err == nil ||
		err.Error() != `/Resources/Fn/Properties/Timeout: float64 10, want a string` {
		t.Errorf("typed: %v", err)
	}
}
