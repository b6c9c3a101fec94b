package contract

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestNormalizeReturnsFieldErrors: the contract's validators return each
// problem as a FieldError naming the field, so a caller prefixes fields
// (cdk.json's key path, an environment variable) instead of splitting
// Error() text again.
func TestNormalizeReturnsFieldErrors(t *testing.T) {
	fields := func(err error) []string {
		t.Helper()
		var fe FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("%T %v is not FieldErrors", err, err)
		}
		var out []string
		for _, e := range fe {
			if e.Message == "" {
				t.Errorf("field %q: empty message", e.Field)
			}
			out = append(out, e.Field)
		}
		return out
	}
	_, err := Verifiers{OIDC: []OIDC{{Name: "Bad Name", Issuer: "http://idp.example.com"}}, HS256: &HS256{Name: "b"}}.Normalize(false)
	if got, want := fields(err), []string{"oidc[0].name", "oidc[0].issuer", "oidc[0].audiences", "hs256.issuer", "hs256.audience"}; !slices.Equal(got, want) {
		t.Errorf("verifier fields = %v, want %v", got, want)
	}
	_, err = UploadLimits{MaxBytes: -1, ContentTypes: []string{"image/png", "IMAGE/PNG"}, Expiry: time.Millisecond}.Normalize()
	if got, want := fields(err), []string{"maxBytes", "contentTypes[1]", "expiry"}; !slices.Equal(got, want) {
		t.Errorf("upload fields = %v, want %v", got, want)
	}
	_, err = ParseUploadEnv(func(k string) string { return map[string]string{EnvUploadContentTypes: "x"}[k] })
	if got, want := fields(err), []string{EnvUploadContentTypes + " entry 0"}; !slices.Equal(got, want) {
		t.Errorf("upload env fields = %v, want %v", got, want)
	}
	_, err = CacheSettings{MaxEntries: -1, MinRemaining: time.Second}.Normalize()
	if got, want := fields(err), []string{"maxEntries", "minRemaining"}; !slices.Equal(got, want) {
		t.Errorf("cache fields = %v, want %v", got, want)
	}
	if got := (FieldErrors{{"a.b", "is wrong"}, {"", "whole document"}}).Error(); got != "a.b: is wrong\nwhole document" {
		t.Errorf("Error() = %q", got)
	}
	if (FieldErrors{}).Err() != nil {
		t.Error("no problem must be a nil error")
	}
	for _, c := range [][3]string{{"upload", "maxBytes", "upload.maxBytes"}, {"verifiers", "", "verifiers"}, {"", "expiry", "expiry"}} {
		if got := JoinField(c[0], c[1]); got != c[2] {
			t.Errorf("JoinField(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
