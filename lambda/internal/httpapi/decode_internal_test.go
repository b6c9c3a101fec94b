package httpapi

import (
	"errors"
	"fmt"
	"testing"
)

// TestAsAPIError: a decoding error that is not an *apiError (a future
// decoder's bug) becomes a fixed 500 instead of panicking an unchecked type
// assertion, as the request path once could; a wrapped *apiError keeps its
// own status.
func TestAsAPIError(t *testing.T) {
	if got := asAPIError(errors.New("decoder bug")); got != errInternal {
		t.Errorf("foreign error -> %+v, want errInternal", got)
	}
	if got := asAPIError(fmt.Errorf("wrapped: %w", errMalformed)); got != errMalformed {
		t.Errorf("wrapped *apiError -> %+v, want errMalformed", got)
	}
	if got := asAPIError(nil); got != errInternal {
		t.Errorf("nil -> %+v, want errInternal", got)
	}
}
