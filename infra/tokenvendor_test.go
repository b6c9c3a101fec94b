package infra

import (
	"maps"
	"slices"
	"testing"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
)

// TestTokenVendorPropsDefaults: zero values take the defaults (a zero
// throttle would stop the API), in one place, before validation.
func TestTokenVendorPropsDefaults(t *testing.T) {
	p := TokenVendorProps{}.withDefaults()
	if p.ThrottleRateLimit != config.DefaultThrottleRateLimit || p.ThrottleBurstLimit != config.DefaultThrottleBurstLimit {
		t.Errorf("throttle = %v/%d, want the defaults %v/%d", p.ThrottleRateLimit, p.ThrottleBurstLimit, config.DefaultThrottleRateLimit, config.DefaultThrottleBurstLimit)
	}
	if p.Timeout != contract.DefaultLambdaTimeout || p.LogRetention != config.DefaultLogRetention || p.MemoryMB != 256 ||
		p.TokenDuration != contract.DefaultTokenDuration || p.CredentialLifetime != contract.DefaultCredentialLifetime {
		t.Errorf("defaults: %+v", p)
	}
	set := TokenVendorProps{ThrottleRateLimit: 1.5, ThrottleBurstLimit: 3}.withDefaults()
	if set.ThrottleRateLimit != 1.5 || set.ThrottleBurstLimit != 3 {
		t.Errorf("set throttle overridden: %v/%d", set.ThrottleRateLimit, set.ThrottleBurstLimit)
	}
}

// TestLogRetentionDaysCoverConfig: every retention config accepts maps to
// the CDK's enum, and the enum table holds no day count config refuses.
func TestLogRetentionDaysCoverConfig(t *testing.T) {
	if got := slices.Sorted(maps.Keys(logRetentionDays)); !slices.Equal(got, config.LogRetentionDays) {
		t.Errorf("logRetentionDays has %v, config.LogRetentionDays %v", got, config.LogRetentionDays)
	}
}
