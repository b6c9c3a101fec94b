package contract_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
)

type inner struct {
	Name string `json:"name"`
}

type outer struct {
	Provider string            `json:"provider"`
	List     []inner           `json:"list,omitempty"`
	Ptr      *inner            `json:"ptr,omitempty"`
	Map      map[string]inner  `json:"map,omitempty"`
	Any      any               `json:"any,omitempty"`
	Skip     string            `json:"-"`
	Labels   map[string]string `json:"labels,omitempty"`
}

func TestDecodeStrict(t *testing.T) {
	ok := []string{
		`{"provider":"a"}`,
		`{"provider":"a","list":[{"name":"x"},{"name":"y"}],"ptr":{"name":"z"},"map":{"k":{"name":"v"}},"any":{"Free":1,"free":2}}`,
		` {"provider":"a"} `,
		`{"labels":{"A":"1","a":"2"}}`, // map keys are data: case differs, not duplicates
	}
	for _, doc := range ok {
		var o outer
		if err := contract.DecodeStrict([]byte(doc), &o); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
	var o outer
	if err := contract.DecodeStrict([]byte(`{"provider":"a","list":[{"name":"x"}]}`), &o); err != nil || o.Provider != "a" || o.List[0].Name != "x" {
		t.Fatalf("decoded %+v, %v", o, err)
	}

	bad := map[string]struct {
		path string
		dup  bool
	}{
		`{"provider":"hs","provider":"oidc"}`:         {"provider", true},
		`{"Provider":"a"}`:                            {"Provider", false},
		`{"PROVIDER":"a"}`:                            {"PROVIDER", false},
		`{"list":[{"name":"x"},{"Name":"y"}]}`:        {"list[1].Name", false},
		`{"list":[{"name":"x","name":"y"}]}`:          {"list[0].name", true},
		`{"ptr":{"nAme":"z"}}`:                        {"ptr.nAme", false},
		`{"map":{"k":{"name":"v"},"k":{}}}`:           {"map.k", true},
		`{"map":{"k":{"NAME":"v"}}}`:                  {"map.k.NAME", false},
		`{"any":{"x":1,"x":2}}`:                       {"any.x", true},
		`{"any":[{"x":[{"y":1,"y":1}]}]}`:             {"any[0].x[0].y", true},
		`{"Skip":"x"}`:                                {"Skip", false},
		`{"-":"x"}`:                                   {"-", false},
		`{"provider":"a","labels":{"a":"1","a":"2"}}`: {"labels.a", true},
	}
	for doc, want := range bad {
		var o outer
		err := contract.DecodeStrict([]byte(doc), &o)
		var ke *contract.KeyError
		if !errors.As(err, &ke) || ke.Path != want.path || ke.Duplicate != want.dup {
			t.Errorf("%s: got %v, want a KeyError for %q (duplicate %v)", doc, err, want.path, want.dup)
		}
	}
	for _, doc := range []string{``, `{`, `{"provider":"a"} {}`, `{"provider":"a"}x`, `{"provider":1}`, `[]`, `{"list":{}}`} {
		var o outer
		if err := contract.DecodeStrict([]byte(doc), &o); err == nil {
			t.Errorf("%q accepted", doc)
		}
	}
}

func TestParseVerifiersStrictKeys(t *testing.T) {
	hs := `{"name":"backend","issuer":"https://api.example.com","audience":"s3vend"}`
	for doc, key := range map[string]string{
		`{"hs256":` + hs + `,"hs256":` + hs + `}`: `"hs256"`,
		`{"HS256":` + hs + `}`:                    `"HS256"`,
		`{"hs256":{"name":"backend","name":"admin","issuer":"https://i","audience":"a"}}`:    `"hs256.name"`,
		`{"oidc":[{"name":"g","issuer":"https://i","audiences":["a"],"UserClaim":"email"}]}`: `"oidc[0].UserClaim"`,
	} {
		_, err := contract.ParseVerifiers([]byte(doc), false)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: want an error naming %s, got %v", doc, key, err)
		}
	}
}
