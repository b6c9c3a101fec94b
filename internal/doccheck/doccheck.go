// Package doccheck finds broken references in the repository's documentation:
// a relative link or image in a Markdown file whose file is missing, an
// anchor (#section) that no heading of the target page produces, and a
// path to a Markdown page (optionally with an anchor) quoted in code or a
// Makefile comment that no longer exists. The README is a landing page and
// the reference lives in docs/*.md, so every moved section keeps its links
// working only if a test says so (internal/doccheck's TestRepository).
//
// Markdown is parsed with goldmark (CommonMark + GitHub's table, strike-through
// and autolink extensions), so a link inside a code block or code span is not a
// link, as on GitHub. Anchors follow GitHub's heading ids (github-slugger):
// the heading's text lower-cased, every character that is not a letter, digit,
// mark, '_', '-' or space dropped, each space turned into '-', and a repeated
// id suffixed -1, -2, ...
package doccheck

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// Problem is one broken reference: File (slash-separated, relative to the
// root) and Line (1-based) of the reference, Target as written, and why.
type Problem struct {
	File   string
	Line   int
	Target string
	Reason string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Target, p.Reason)
}

// Link is a link or image destination in a Markdown page, with its line.
type Link struct {
	Dest string
	Line int
}

var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

// Page is a parsed Markdown page: its links and the anchors its headings (and
// explicit <a id|name="..."> tags) define.
type Page struct {
	Links   []Link
	Anchors map[string]bool
}

// Parse parses one Markdown page.
func Parse(src []byte) Page {
	doc := md.Parser().Parse(text.NewReader(src))
	p := Page{Anchors: map[string]bool{}}
	seen := map[string]int{}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			slug := Slug(inlineText(n, src))
			if k, dup := seen[slug]; dup {
				seen[slug] = k + 1
				slug = slug + "-" + strconv.Itoa(k+1)
			} else {
				seen[slug] = 0
			}
			p.Anchors[slug] = true
		case *ast.Link:
			p.Links = append(p.Links, Link{string(n.Destination), lineOf(n, src)})
		case *ast.Image:
			p.Links = append(p.Links, Link{string(n.Destination), lineOf(n, src)})
		case *ast.RawHTML, *ast.HTMLBlock:
			for _, id := range htmlIDs(rawHTML(n, src)) {
				p.Anchors[id] = true
			}
		}
		return ast.WalkContinue, nil
	})
	return p
}

// Slug is GitHub's anchor for a heading whose rendered text is s.
func Slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// inlineText is the text a heading renders: text and code spans, without
// the Markdown syntax around them.
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(src))
			if c.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.RawHTML:
			// tags render no text
		default:
			b.WriteString(inlineText(c, src))
		}
	}
	return b.String()
}

// lineOf is the line of an inline node: that of the first line of its
// nearest block ancestor plus the newlines before the node's first text.
func lineOf(n ast.Node, src []byte) int {
	offset := -1
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			offset = t.Segment.Start
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	if offset < 0 {
		for b := n; b != nil; b = b.Parent() {
			if b.Type() == ast.TypeBlock && b.Lines().Len() > 0 {
				offset = b.Lines().At(0).Start
				break
			}
		}
	}
	if offset < 0 {
		return 0
	}
	return bytes.Count(src[:offset], []byte("\n")) + 1
}

func rawHTML(n ast.Node, src []byte) []byte {
	var b bytes.Buffer
	var segs *text.Segments
	switch n := n.(type) {
	case *ast.RawHTML:
		segs = n.Segments
	case *ast.HTMLBlock:
		segs = n.Lines()
	}
	for i := 0; i < segs.Len(); i++ {
		s := segs.At(i)
		b.Write(s.Value(src))
	}
	return b.Bytes()
}

var htmlID = regexp.MustCompile(`(?i)<a\s[^>]*\b(?:id|name)\s*=\s*"([^"]+)"`)

func htmlIDs(b []byte) []string {
	var ids []string
	for _, m := range htmlID.FindAllSubmatch(b, -1) {
		ids = append(ids, string(m[1]))
	}
	return ids
}

// Tree checks a repository: every Markdown page under Root, and the Markdown
// paths quoted in the files CodeFile accepts. SkipDir prunes directories
// (slash-separated paths relative to Root, such as "node_modules"); hidden
// directories other than .github and .ci are always skipped.
type Tree struct {
	Root     string
	SkipDir  func(rel string) bool
	CodeFile func(rel string) bool
}

// Check returns every broken reference, sorted by file and line.
func (t Tree) Check() ([]Problem, error) {
	var pages, code []string
	err := filepath.WalkDir(t.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(t.Root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".github" && d.Name() != ".ci" || t.SkipDir != nil && t.SkipDir(rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(rel, ".md") {
			pages = append(pages, rel)
		} else if t.CodeFile != nil && t.CodeFile(rel) {
			code = append(code, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c := checker{root: t.Root, pages: map[string]Page{}}
	var problems []Problem
	for _, rel := range pages {
		pg, err := c.page(rel)
		if err != nil {
			return nil, err
		}
		for _, l := range pg.Links {
			if reason := c.resolve(rel, l.Dest); reason != "" {
				problems = append(problems, Problem{rel, l.Line, l.Dest, reason})
			}
		}
	}
	for _, rel := range code {
		src, err := os.ReadFile(filepath.Join(t.Root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		for _, r := range CodeRefs(src) {
			if reason := c.resolveCode(path.Dir(rel), r.Dest); reason != "" {
				problems = append(problems, Problem{rel, r.Line, r.Dest, reason})
			}
		}
	}
	sort.Slice(problems, func(i, j int) bool {
		if problems[i].File != problems[j].File {
			return problems[i].File < problems[j].File
		}
		return problems[i].Line < problems[j].Line
	})
	return problems, nil
}

// codeRef matches a documentation page named in code: a README.md or
// CHANGELOG.md anywhere, or a page of docs/, optionally with #anchor
// (README.md, lambda/README.md#layout, docs/runbook.md#alarms). Other .md
// names in code are outputs (report.md), not pages.
var codeRef = regexp.MustCompile(`(?:^|[^\w./$-])((?:[\w.-]+/)*(?:README|CHANGELOG)\.md|docs/[\w.-]+\.md)(#[\w-]+)?`)

// CodeRefs are the Markdown paths (with their anchors) quoted in a source file.
func CodeRefs(src []byte) []Link {
	var refs []Link
	for i, line := range bytes.Split(src, []byte("\n")) {
		for _, m := range codeRef.FindAllSubmatch(line, -1) {
			refs = append(refs, Link{string(m[1]) + string(m[2]), i + 1})
		}
	}
	return refs
}

type checker struct {
	root  string
	pages map[string]Page
}

func (c *checker) page(rel string) (Page, error) {
	if p, ok := c.pages[rel]; ok {
		return p, nil
	}
	src, err := os.ReadFile(filepath.Join(c.root, filepath.FromSlash(rel)))
	if err != nil {
		return Page{}, err
	}
	p := Parse(src)
	c.pages[rel] = p
	return p, nil
}

// resolve checks one link of the page rel ("" when fine).
func (c *checker) resolve(rel, dest string) string {
	u, err := url.Parse(dest)
	if err != nil {
		return "not a URL: " + err.Error()
	}
	if u.Scheme != "" || u.Host != "" {
		return "" // absolute: not checked offline
	}
	target := rel
	if u.Path != "" {
		if strings.HasPrefix(u.Path, "/") {
			return "root-relative links break outside GitHub's file view; use a relative path"
		}
		target = path.Clean(path.Join(path.Dir(rel), u.Path))
	}
	return c.exists(target, u.Fragment, u.Path == "")
}

// resolveCode checks a Markdown path quoted in code: relative to the root
// (how the code base names files) or, failing that, to the file's directory.
func (c *checker) resolveCode(dir, ref string) string {
	p, frag, _ := strings.Cut(ref, "#")
	for _, target := range []string{path.Clean(p), path.Clean(path.Join(dir, p))} {
		if strings.HasPrefix(target, "../") {
			continue
		}
		if _, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(target))); err == nil {
			return c.exists(target, frag, false)
		}
	}
	return "no such file (relative to the repository root or to this file)"
}

// exists checks that target (relative to the root) exists and, for a
// Markdown page, defines the anchor frag.
func (c *checker) exists(target, frag string, samePage bool) string {
	if target == ".." || strings.HasPrefix(target, "../") {
		return "points outside the repository"
	}
	fi, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(target)))
	if err != nil {
		return "no such file"
	}
	if frag == "" {
		return ""
	}
	if fi.IsDir() || !strings.HasSuffix(target, ".md") {
		return "" // a line anchor of a code file (#L10) or a folder: GitHub's, not checked
	}
	pg, err := c.page(target)
	if err != nil {
		return err.Error()
	}
	if !pg.Anchors[frag] {
		where := "in " + target
		if samePage {
			where = "on this page"
		}
		return fmt.Sprintf("no heading with anchor #%s %s", frag, where)
	}
	return ""
}
