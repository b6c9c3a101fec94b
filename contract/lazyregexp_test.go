package contract

import (
	"regexp"
	"testing"
)

// Every lazy pattern compiles, and matches as the eager regexp does: the
// laziness changes when a pattern is compiled, never what it accepts.
func TestLazyRegexpsCompile(t *testing.T) {
	if len(lazyRegexps) < 15 {
		t.Fatalf("%d lazy patterns registered, want every pattern of the package", len(lazyRegexps))
	}
	probes := []string{"", "a", "eu-west-1", "cn-north-1", "arn:aws:iam::123456789012:role/r", "image/png", "org_id", "x y"}
	for _, l := range lazyRegexps {
		eager, err := regexp.Compile(l.expr)
		if err != nil {
			t.Fatalf("%q: %v", l.expr, err)
		}
		for _, s := range probes {
			if got, want := l.MatchString(s), eager.MatchString(s); got != want {
				t.Errorf("%q on %q: lazy %v, eager %v", l.expr, s, got, want)
			}
		}
	}
}
