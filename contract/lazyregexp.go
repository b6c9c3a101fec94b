package contract

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled on its first use instead of at
// package initialization. Every program that imports contract runs that
// initialization at start: the token vendor on each cold start and the
// s3vend CLI on every credential_process call (the AWS CLI runs it for each
// command), which needs none of these patterns on a cache hit. Compiled
// eagerly they took 2-3 ms of that start on the 2-core CI machine, most of it
// the counted repetitions such as {1,512}, which compile into large programs
// (docs/benchmarks.md). Go's cmd/go keeps its global regexps lazy for the
// same reason (internal/lazyregexp). TestLazyRegexpsCompile compiles every
// pattern, so a bad one still fails the tests rather than a first use.
type lazyRegexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

// lazyRegexps lists every lazy pattern, for the test that compiles them.
var lazyRegexps []*lazyRegexp

func newLazyRegexp(expr string) *lazyRegexp {
	re := &lazyRegexp{expr: expr}
	lazyRegexps = append(lazyRegexps, re)
	return re
}

func (l *lazyRegexp) compiled() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.expr) })
	return l.re
}

// MatchString reports whether s contains a match of the pattern.
func (l *lazyRegexp) MatchString(s string) bool { return l.compiled().MatchString(s) }
