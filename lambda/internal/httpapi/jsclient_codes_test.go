package httpapi_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
)

// TestJSClientErrorCodes keeps the JS client's table of the vendor's error
// codes (js/client/src/codes.js, VENDOR_ERROR_CODES) equal to the codes this
// package answers with: every apiError{status, code, ...} literal in its
// source (a code given as a string, a contract constant, or a local
// variable assigned string literals), and the JSON fallback of writeJSON.
func TestJSClientErrorCodes(t *testing.T) {
	fromGo := codesInSource(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "js", "client", "src", "codes.js"))
	if err != nil {
		t.Fatal(err)
	}
	table := regexp.MustCompile(`(?s)VENDOR_ERROR_CODES = Object\.freeze\(\{(.*?)\}\);`).FindSubmatch(b)
	if table == nil {
		t.Fatal("codes.js: no VENDOR_ERROR_CODES = Object.freeze({...}); table")
	}
	fromJS := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^\s*([a-z_]+): (\d{3}),$`).FindAllSubmatch(table[1], -1) {
		fromJS[string(m[1])], _ = strconv.Atoi(string(m[2]))
	}
	if len(fromGo) < 15 {
		t.Fatalf("found only %d codes in the handler's source: the parser below no longer sees them: %v", len(fromGo), fromGo)
	}
	if !maps.Equal(fromGo, fromJS) {
		var diff []string
		for _, c := range slices.Sorted(maps.Keys(fromGo)) {
			if fromJS[c] != fromGo[c] {
				diff = append(diff, c+": vendor "+strconv.Itoa(fromGo[c])+", codes.js "+strconv.Itoa(fromJS[c]))
			}
		}
		for _, c := range slices.Sorted(maps.Keys(fromJS)) {
			if _, ok := fromGo[c]; !ok {
				diff = append(diff, c+": only in codes.js")
			}
		}
		t.Fatalf("js/client/src/codes.js is out of step with the vendor's error codes:\n%s", strings.Join(diff, "\n"))
	}
}

// codesInSource maps every error code the package's non-test source can
// answer with to its HTTP status.
func codesInSource(t *testing.T) map[string]int {
	t.Helper()
	statuses := map[string]int{}
	for code := 100; code < 600; code++ {
		if text := http.StatusText(code); text != "" {
			statuses["Status"+strings.NewReplacer(" ", "", "-", "", "'", "").Replace(text)] = code
		}
	}
	statuses["StatusRequestEntityTooLarge"] = http.StatusRequestEntityTooLarge
	consts := map[string]string{"CodeInvalidCredential": contract.CodeInvalidCredential, "CodeUpstreamThrottled": contract.CodeUpstreamThrottled}
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			fn, ok := n.(*ast.FuncDecl)
			if ok {
				// Codes assigned to a local variable in this function.
				locals := map[string][]string{}
				ast.Inspect(fn, func(n ast.Node) bool {
					if as, ok := n.(*ast.AssignStmt); ok && len(as.Lhs) == 1 && len(as.Rhs) == 1 {
						if id, ok := as.Lhs[0].(*ast.Ident); ok {
							if lit, ok := as.Rhs[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								s, _ := strconv.Unquote(lit.Value)
								locals[id.Name] = append(locals[id.Name], s)
							}
						}
					}
					return true
				})
				collect(t, fn, statuses, consts, locals, out)
				return false
			}
			if gd, ok := n.(*ast.GenDecl); ok {
				collect(t, gd, statuses, consts, nil, out)
				return false
			}
			return true
		})
	}
	// writeJSON's fallback body when encoding fails.
	out["internal_error"] = http.StatusInternalServerError
	return out
}

func collect(t *testing.T, root ast.Node, statuses map[string]int, consts map[string]string, locals map[string][]string, out map[string]int) {
	ast.Inspect(root, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok || len(cl.Elts) < 2 {
			return true
		}
		if id, ok := cl.Type.(*ast.Ident); !ok || id.Name != "apiError" {
			return true
		}
		sel, ok := cl.Elts[0].(*ast.SelectorExpr)
		status := 0
		if ok {
			status = statuses[sel.Sel.Name]
		}
		if status == 0 {
			t.Errorf("apiError status %v: not an http.StatusX constant this test knows", cl.Elts[0])
			return true
		}
		var codes []string
		switch c := cl.Elts[1].(type) {
		case *ast.BasicLit:
			s, _ := strconv.Unquote(c.Value)
			codes = []string{s}
		case *ast.SelectorExpr:
			codes = []string{consts[c.Sel.Name]}
		case *ast.Ident:
			codes = locals[c.Name]
		}
		if len(codes) == 0 || slices.Contains(codes, "") {
			t.Errorf("apiError code %v: cannot read it (a new contract constant? add it to consts)", cl.Elts[1])
		}
		for _, c := range codes {
			out[c] = status
		}
		return true
	})
}
