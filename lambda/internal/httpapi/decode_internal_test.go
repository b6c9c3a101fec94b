package httpapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/s3vend/s3vend/contract/wire"
)

// TestAsAPIError: a decoding error that is not a *wire.Error (a future
// decoder's bug) becomes a fixed 500 instead of panicking an unchecked type
// assertion, as the request path once could; a wrapped *wire.Error keeps its
// own status.
func TestAsAPIError(t *testing.T) {
	if got := asAPIError(errors.New("decoder bug")); got != wire.ErrInternal {
		t.Errorf("foreign error -> %+v, want wire.ErrInternal", got)
	}
	if got := asAPIError(fmt.Errorf("wrapped: %w", wire.ErrMalformedJSON)); got != wire.ErrMalformedJSON {
		t.Errorf("wrapped *wire.Error -> %+v, want wire.ErrMalformedJSON", got)
	}
	if got := asAPIError(nil); got != wire.ErrInternal {
		t.Errorf("nil -> %+v, want wire.ErrInternal", got)
	}
}
