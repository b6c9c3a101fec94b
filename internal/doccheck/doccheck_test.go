package doccheck_test

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/internal/doccheck"
)

// TestRepository: every relative link and anchor in README.md, docs/*.md and
// every other Markdown page of the repository resolves, and so does every
// Markdown page (and anchor) that code, Makefiles and workflows name.
func TestRepository(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "docs", "README.md")); err != nil {
		t.Fatalf("docs/README.md (the index of the reference pages): %v", err)
	}
	problems, err := repository(root).Check()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

func repository(root string) doccheck.Tree {
	return doccheck.Tree{
		Root: root,
		SkipDir: func(rel string) bool {
			switch rel {
			case "node_modules", "cdk.out":
				return true
			}
			return path.Base(rel) == "node_modules"
		},
		CodeFile: func(rel string) bool {
			if strings.HasPrefix(rel, "third_party/") || strings.Contains(rel, "/testdata/") || rel == "internal/doccheck/doccheck_test.go" {
				return false // upstream code; fixtures
			}
			switch path.Ext(rel) {
			case ".go", ".yml", ".yaml", ".mjs", ".js", ".ts", ".inc", ".sh":
				return true
			}
			base := path.Base(rel)
			return base == "Makefile" || base == "run"
		},
	}
}

// TestDocsPagesSayWhatTheyAreFor: each reference page opens with a title
// and then a paragraph (what the page is for), not straight into a table,
// list or code.
func TestDocsPagesSayWhatTheyAreFor(t *testing.T) {
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(pages) < 2 {
		t.Fatalf("docs/*.md: %v %v", pages, err)
	}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		if !strings.HasPrefix(lines[0], "# ") {
			t.Errorf("%s: first line %q is not a title", p, lines[0])
			continue
		}
		i := 1
		for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
			i++
		}
		if i == len(lines) || strings.ContainsAny(lines[i][:1], "#|`-*>!<") {
			t.Errorf("%s: the title is not followed by a sentence saying what the page is for", p)
		}
	}
}

func TestSlugIsGitHubs(t *testing.T) {
	// Anchors GitHub generates for headings of this repository.
	for heading, want := range map[string]string{
		"Deploying":                                   "deploying",
		"CI/CD (GitHub Actions)":                      "cicd-github-actions",
		"After a deploy: make smoke":                  "after-a-deploy-make-smoke",
		"Measured (2 cores, Node 24; make bench)":     "measured-2-cores-node-24-make-bench",
		"Uploads without an AWS SDK: POST /v1/upload": "uploads-without-an-aws-sdk-post-v1upload",
		"What is provisioned, and why it is safe":     "what-is-provisioned-and-why-it-is-safe",
		"Make targets (lambda/Makefile.inc)":          "make-targets-lambdamakefileinc",
		"snake_case — and  two spaces":                "snake_case--and--two-spaces",
		"Überblick 概要":                                "überblick-概要",
	} {
		if got := doccheck.Slug(heading); got != want {
			t.Errorf("Slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	src := "# Title\n\n## Use `make check`\n\n## Same\n\n## Same\n\n<a id=\"custom\"></a>\n\n" +
		"Text [a](other.md#x) and ![pic](img.png).\n\n```sh\n[not a link](missing.md)\n```\n\n`[code](missing2.md)`\n\n" +
		"| table | [cell](cell.md) |\n|---|---|\n"
	p := doccheck.Parse([]byte(src))
	for _, a := range []string{"title", "use-make-check", "same", "same-1", "custom"} {
		if !p.Anchors[a] {
			t.Errorf("anchor %q missing from %v", a, p.Anchors)
		}
	}
	var dests []string
	for _, l := range p.Links {
		dests = append(dests, l.Dest)
	}
	if got, want := strings.Join(dests, " "), "other.md#x img.png cell.md"; got != want {
		t.Errorf("links %q, want %q (none from code)", got, want)
	}
	if p.Links[0].Line != 11 {
		t.Errorf("line of the first link %d, want 11", p.Links[0].Line)
	}
}

// TestCheckFindsEachKindOfBreak is the positive control: a tree with one
// break of each kind reports exactly those, and a correct tree nothing.
func TestCheckFindsEachKindOfBreak(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "# R\n\n[ok](docs/a.md#part) [ok2](docs/) [ok3](main.go#L3) [web](https://example.com/x.md)\n"+
		"[gone](docs/gone.md) [bad anchor](docs/a.md#nope) [self](#r) [self bad](#q)\n")
	write("docs/a.md", "# A\n\n## Part\n\n[up](../README.md#r) [out](../../x.md) [root](/README.md)\n")
	write("main.go", "package main\n// see docs/a.md#part and README.md, docs/a.md#missing, docs/none.md, out/report.md, $ID/README.md\n")
	write("node_modules/pkg/README.md", "[broken](nothing.md)\n")

	problems, err := doccheck.Tree{
		Root:     root,
		SkipDir:  func(rel string) bool { return rel == "node_modules" },
		CodeFile: func(rel string) bool { return strings.HasSuffix(rel, ".go") },
	}.Check()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.File+":"+p.Target)
	}
	want := []string{
		"README.md:docs/gone.md", "README.md:docs/a.md#nope", "README.md:#q",
		"docs/a.md:../../x.md", "docs/a.md:/README.md",
		"main.go:docs/a.md#missing", "main.go:docs/none.md",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s\n(full: %v)", strings.Join(got, "\n"), strings.Join(want, "\n"), problems)
	}
}
