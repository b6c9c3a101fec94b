package contract_test

import (
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/contract"
)

func TestCacheSettingsRoundTrip(t *testing.T) {
	for _, c := range []contract.CacheSettings{{}, {Disabled: true}, {MaxEntries: 7, MinRemaining: time.Minute}} {
		norm, err := c.Normalize()
		if err != nil {
			t.Fatal(err)
		}
		env := norm.Env()
		back, err := contract.ParseCacheEnv(func(k string) string { return env[k] })
		if err != nil || back != norm {
			t.Errorf("%+v -> %v -> %+v %v", norm, env, back, err)
		}
	}
	// Unset variables: on, with the defaults.
	def, err := contract.ParseCacheEnv(func(string) string { return "" })
	if err != nil || def.Disabled || def.MaxEntries != contract.DefaultCacheMaxEntries || def.MinRemaining != contract.DefaultCacheMinRemaining {
		t.Errorf("defaults %+v %v", def, err)
	}
}

func TestCacheSettingsErrorsNameTheVariable(t *testing.T) {
	env := map[string]string{
		contract.EnvCacheEnabled: "yes", contract.EnvCacheMaxEntries: "1000001", contract.EnvCacheMinRemaining: "5",
	}
	_, err := contract.ParseCacheEnv(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{contract.EnvCacheEnabled} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%q does not name %s", err, name)
		}
	}
	delete(env, contract.EnvCacheEnabled)
	_, err = contract.ParseCacheEnv(func(k string) string { return env[k] })
	for _, name := range []string{contract.EnvCacheMaxEntries, contract.EnvCacheMinRemaining} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v does not name %s", err, name)
		}
	}
	if _, err := (contract.CacheSettings{MinRemaining: 1500 * time.Millisecond}).Normalize(); err == nil || !strings.HasPrefix(err.Error(), "minRemaining:") {
		t.Errorf("fractional seconds: %v", err)
	}
}
