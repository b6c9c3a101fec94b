package contract_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
)

func TestUploadLimitsDefaults(t *testing.T) {
	u, err := contract.UploadLimits{}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := contract.UploadLimits{MaxBytes: 10 << 20, ContentTypes: contract.DefaultUploadContentTypes(), Expiry: 5 * time.Minute}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("defaults = %+v, want %+v", u, want)
	}
}

func TestUploadLimitsNormalizeLowerCasesWithoutMutating(t *testing.T) {
	in := contract.UploadLimits{MaxBytes: 1, ContentTypes: []string{"Image/JPEG", "application/vnd.ms-excel"}, Expiry: time.Hour}
	out, err := in.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.ContentTypes, []string{"image/jpeg", "application/vnd.ms-excel"}) || in.ContentTypes[0] != "Image/JPEG" {
		t.Errorf("out %v, in %v", out.ContentTypes, in.ContentTypes)
	}
}

func TestUploadLimitsErrorsNameTheField(t *testing.T) {
	cases := []struct {
		in    contract.UploadLimits
		field string
	}{
		{contract.UploadLimits{MaxBytes: -1}, "maxBytes: "},
		{contract.UploadLimits{MaxBytes: contract.MaxUploadBytes + 1}, "maxBytes: "},
		{contract.UploadLimits{ContentTypes: []string{}}, "contentTypes: "},
		{contract.UploadLimits{ContentTypes: make([]string, 21)}, "contentTypes: "},
		{contract.UploadLimits{ContentTypes: []string{"image/*"}}, "contentTypes[0]: "},
		{contract.UploadLimits{ContentTypes: []string{"text/plain; charset=utf-8"}}, "contentTypes[0]: "},
		{contract.UploadLimits{ContentTypes: []string{"image/png", "IMAGE/PNG"}}, "contentTypes[1]: "},
		{contract.UploadLimits{Expiry: 59 * time.Second}, "expiry: "},
		{contract.UploadLimits{Expiry: time.Hour + time.Second}, "expiry: "},
		{contract.UploadLimits{Expiry: 90500 * time.Millisecond}, "expiry: "},
	}
	for _, c := range cases {
		_, err := c.in.Normalize()
		if err == nil || !strings.HasPrefix(err.Error(), c.field) {
			t.Errorf("%+v: got %v, want an error starting with %q", c.in, err, c.field)
		}
	}
}

// TestUploadEnvRoundTrip: what the stack writes (Env) is what the service
// reads back (ParseUploadEnv).
func TestUploadEnvRoundTrip(t *testing.T) {
	for _, in := range []contract.UploadLimits{
		{},
		{MaxBytes: contract.MaxUploadBytes, ContentTypes: []string{"Video/MP4"}, Expiry: time.Minute},
	} {
		norm, err := in.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		env := norm.Env()
		got, err := contract.ParseUploadEnv(func(k string) string { return env[k] })
		if err != nil || !reflect.DeepEqual(got, norm) {
			t.Errorf("round trip of %+v via %v = %+v, %v", norm, env, got, err)
		}
	}
}

func TestParseUploadEnvErrorsNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		contract.EnvUploadMaxBytes + ": ":               {contract.EnvUploadMaxBytes: "10MB"},
		contract.EnvUploadMaxBytes + ": -3 ":            {contract.EnvUploadMaxBytes: "-3"},
		contract.EnvUploadExpiry + ": ":                 {contract.EnvUploadExpiry: "5m"},
		contract.EnvUploadExpiry + ": 2h0m0s":           {contract.EnvUploadExpiry: "7200"},
		contract.EnvUploadContentTypes + " entry 1: ":   {contract.EnvUploadContentTypes: "image/png,,"},
		contract.EnvUploadContentTypes + " entry 0: \"": {contract.EnvUploadContentTypes: "image/*"},
	}
	for prefix, env := range cases {
		_, err := contract.ParseUploadEnv(func(k string) string { return env[k] })
		if err == nil || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("%v: got %v, want prefix %q", env, err, prefix)
		}
	}
}

func TestValidBucketName(t *testing.T) {
	for name, want := range map[string]bool{
		"s3vend-dev-storagebucket19db-abc123": true, "a.b-c": true, "abc": true,
		"ab": false, "Abc": false, "-abc": false, "abc-": false, "a..b": false, "a_b": false,
		strings.Repeat("a", 63): true, strings.Repeat("a", 64): false,
	} {
		if got := contract.ValidBucketName(name); got != want {
			t.Errorf("ValidBucketName(%q) = %v", name, got)
		}
	}
}
