package awsx

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/lambda/internal/fault"
)

func TestClassify(t *testing.T) {
	ctx := context.Background()
	api := func(code string) error {
		return &smithy.GenericAPIError{Code: code, Message: "upstream text must not leak"}
	}
	cases := []struct {
		err      error
		kind     error
		rejected bool
	}{
		{api("TooManyRequestsException"), fault.ErrThrottled, false},
		{api("Throttling"), fault.ErrThrottled, false},
		{context.DeadlineExceeded, fault.ErrTimeout, false},
		{api("NotAuthorizedException"), fault.ErrUpstream, true},
		{api("InvalidIdentityToken"), fault.ErrUpstream, false},
		{errors.New("dial tcp: refused"), fault.ErrUpstream, false},
	}
	for _, c := range cases {
		got := classify(ctx, "Op", c.err)
		if !errors.Is(got, c.kind) || errors.Is(got, fault.ErrIdentityRejected) != c.rejected {
			t.Errorf("%v: %v", c.err, got)
		}
		if msg := got.Error(); len(msg) > 80 || errors.Is(got, c.err) == false {
			t.Errorf("%v: message %q or cause lost", c.err, msg)
		}
		for _, s := range []string{"must not leak", "refused"} {
			if contains(got.Error(), s) {
				t.Errorf("leaked %q", s)
			}
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
