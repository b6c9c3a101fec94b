package contract_test

import (
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
)

// TestDeadlinesOfEveryLambdaTimeout: the upstream deadline the stack derives
// from any allowed function timeout passes the vendor's start-up check and
// leaves time to answer inside the function timeout.
func TestDeadlinesOfEveryLambdaTimeout(t *testing.T) {
	for lt := contract.MinLambdaTimeout; lt <= contract.MaxLambdaTimeout; lt += time.Second {
		up := contract.UpstreamTimeout(lt)
		if err := contract.CheckDeadlines(lt, up); err != nil {
			t.Errorf("%s: %v", lt, err)
		}
		if lt-up < lt/4 {
			t.Errorf("%s: upstream %s leaves under a quarter of the timeout to answer", lt, up)
		}
	}
	for _, c := range []struct{ lambda, upstream time.Duration }{
		{5 * time.Second, 7 * time.Second},  // the upstream deadline outlives the function
		{30 * time.Second, 7 * time.Second}, // beyond the HTTP API's integration limit
		{2 * time.Second, time.Second},
		{10 * time.Second, 50 * time.Millisecond},
	} {
		if err := contract.CheckDeadlines(c.lambda, c.upstream); err == nil {
			t.Errorf("Lambda %s, upstream %s accepted", c.lambda, c.upstream)
		}
	}
}

func TestRoleMaxSession(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		15 * time.Minute: time.Hour, time.Hour: time.Hour, 90 * time.Minute: 90 * time.Minute, 12 * time.Hour: 12 * time.Hour,
	} {
		if got := contract.RoleMaxSession(in); got != want {
			t.Errorf("RoleMaxSession(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCheckSessionPolicy(t *testing.T) {
	ok := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`
	if err := contract.CheckSessionPolicy(ok); err != nil {
		t.Error(err)
	}
	for p, want := range map[string]string{
		ok[:len(ok)-1] + strings.Repeat(" ", 2049-len(ok)) + "}": "is 2049 characters",
		`{"Version":"2012-10-17","Statement":[]}`:                "at least one Statement",
		`{"Statement":[{}]}`:                                     `"Version": "2012-10-17"`,
		strings.Replace(ok, "s3:*", "s3:\u2603", 1):              "U+0020-U+00FF",
	} {
		if err := contract.CheckSessionPolicy(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: err = %v, want %q", p, err, want)
		}
	}
}

func TestValidRoleARN(t *testing.T) {
	for _, arn := range []string{
		"arn:aws:iam::111122223333:role/r", "arn:aws-cn:iam::111122223333:role/path/r", "arn:aws-us-gov:iam::111122223333:role/r",
	} {
		if !contract.ValidRoleARN(arn) {
			t.Errorf("%s refused", arn)
		}
	}
	for _, arn := range []string{
		"arn:aws:iam::111122223333:user/u", "arn:aws-iso:iam::111122223333:role/r", "arn:aws:iam::1:role/r", "arn:awsx:iam::111122223333:role/r",
	} {
		if contract.ValidRoleARN(arn) {
			t.Errorf("%s accepted", arn)
		}
	}
}
