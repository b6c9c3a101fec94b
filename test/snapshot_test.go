package test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// -update rewrites the golden templates. Read the diff the failing test
// printed first: every change in a golden file is a change to production.
var update = flag.Bool("update", false, "rewrite golden snapshots in testdata/snapshots (read the diff first)")

var assetHashRe = regexp.MustCompile(`\b[0-9a-f]{64}\b`)

// normalize blanks what changes without a change of infrastructure meaning:
// asset hashes (and so the Lambda's S3 key), which follow the function's
// source. The source-hash itself is tested in constructs.
func normalize(tpl map[string]any) []byte {
	b, _ := json.MarshalIndent(tpl, "", "  ")
	return append(assetHashRe.ReplaceAll(b, []byte("<asset-hash>")), '\n')
}

func TestSnapshots(t *testing.T) {
	for _, stack := range everyStack(t) {
		t.Run(stack, func(t *testing.T) {
			got := normalize(stackTemplate(t, stack))
			path := filepath.Join("testdata", "snapshots", stack+".template.json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("updated %s", path)
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("no golden snapshot (%v); run `make update-snapshots` and review the new file", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from its golden snapshot (- golden, + synthesized):\n%s\n"+
					"If the change is intended, run `make update-snapshots` and commit the reviewed diff.",
					stack, lineDiff(string(want), string(got), 3, 80))
			}
		})
	}
}

// lineDiff renders the differing lines of a and b with some context, as a
// unified-style diff capped at limit lines (LCS over lines; templates are small).
func lineDiff(a, b string, context, limit int) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte
		line string
	}
	var ops []op
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			ops = append(ops, op{' ', x[i]})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, op{'+', y[j]})
			j++
		default:
			ops = append(ops, op{'-', x[i]})
			i++
		}
	}
	var out []string
	last := -1
	for k, o := range ops {
		if o.kind == ' ' {
			continue
		}
		for c := max(last+1, k-context); c < k; c++ {
			out = append(out, fmt.Sprintf("%c %s", ops[c].kind, ops[c].line))
		}
		out = append(out, fmt.Sprintf("%c %s", o.kind, o.line))
		last = k
		for c := k + 1; c < len(ops) && c <= k+context && ops[c].kind == ' '; c++ {
			out = append(out, fmt.Sprintf("%c %s", ops[c].kind, ops[c].line))
			last = c
		}
		if len(out) > limit {
			return strings.Join(out[:limit], "\n") + "\n... (diff truncated)"
		}
	}
	return strings.Join(out, "\n")
}
