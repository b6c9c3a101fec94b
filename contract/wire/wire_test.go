package wire

import (
	"net/http"
	"testing"
)

// TestErrorTable: each entry is a distinct answer, its status is an error,
// only 429 and 5xx answers are retryable, and Body is the JSON clients
// (and the WAF's copy of the 429) send.
func TestErrorTable(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Errors {
		key := e.Code + "|" + e.Message
		if seen[key] || e.Code == "" || e.Message == "" {
			t.Errorf("%+v: empty or listed twice", e)
		}
		seen[key] = true
		if e.Status < 400 || e.Status > 599 {
			t.Errorf("%s: status %d is not an error", e.Code, e.Status)
		}
		if e.Retryable() != (e.Status == http.StatusTooManyRequests || e.Status >= 502) {
			t.Errorf("%s: Retryable %v for %d", e.Code, e.Retryable(), e.Status)
		}
	}
	// The WAF's 429 body (infra.NewRateLimitACL) has been these bytes since
	// the edge was added; a change of the table's entry changes it too.
	if got := string(ErrRateLimited.Body()); got != `{"error":{"code":"rate_limited","message":"Too many requests; retry later."}}` {
		t.Errorf("rate_limited body = %s", got)
	}
	if e := UploadFieldError("other", "m"); e.Code != CodeInvalidRequest || e.Status != http.StatusBadRequest {
		t.Errorf("an unknown upload field = %+v", e)
	}
}
