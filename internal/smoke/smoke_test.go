package smoke

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestRefused(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	if err := refused(denied); err != nil {
		t.Errorf("AccessDenied: %v, want nil", err)
	}
	if err := refused(nil); err == nil || !strings.Contains(err.Error(), "allowed, must be refused") {
		t.Errorf("allowed: %v, want a failure", err)
	}
	if err := refused(&smithy.GenericAPIError{Code: "NoSuchKey"}); err == nil || !strings.Contains(err.Error(), "got NoSuchKey") {
		t.Errorf("NoSuchKey: %v, want a failure naming it", err)
	}
	if err := refused(errors.New("dial tcp: connection refused")); err == nil {
		t.Error("a network error passed as a refusal")
	}
}

func TestTableAndFailed(t *testing.T) {
	rs := []Result{{"a check", Pass, "ok"}, {"another, longer check", Fail, "AccessDenied"}, {"c", Skip, "off"}}
	if n := Failed(rs); n != 1 {
		t.Errorf("Failed = %d, want 1", n)
	}
	want := "CHECK                  RESULT DETAIL\n" +
		"a check                pass   ok\n" +
		"another, longer check  FAIL   AccessDenied\n" +
		"c                      skip   off\n"
	if got := Table(rs); got != want {
		t.Errorf("Table:\n%s\nwant:\n%s", got, want)
	}
}

func TestDescribeShortensSDKErrors(t *testing.T) {
	err := &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}}
	got := describe(errors.Join(errors.New("put:"), err))
	if !strings.Contains(got, "PutObject: AccessDenied") || strings.Contains(got, "\n") {
		t.Errorf("describe = %q", got)
	}
}
