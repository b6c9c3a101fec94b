package fault_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/lambda/internal/fault"
)

func TestDescribeNeverPrintsTheCause(t *testing.T) {
	cause := errors.New("https://h.example/?X-Amz-Signature=secret upstream text")
	err := fmt.Errorf("outer context: %w", fault.New(fault.ErrUpstream, "GetId: no AWS credentials", cause))
	if got := fault.Describe(err); got != "upstream failure: GetId: no AWS credentials" {
		t.Errorf("Describe = %q", got)
	}
	if !errors.Is(err, fault.ErrUpstream) || !errors.Is(err, cause) {
		t.Error("kind or cause not reachable through errors.Is")
	}
	if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "h.example") {
		t.Errorf("cause printed: %v", err)
	}
	if got := fault.Describe(cause); got != "unclassified error" {
		t.Errorf("Describe(plain error) = %q", got)
	}
	if got := fault.Describe(fault.New(fault.ErrTimeout, "", nil)); got != "upstream timeout" || fault.Describe(nil) != "" {
		t.Errorf("Describe without reason = %q", got)
	}
}
