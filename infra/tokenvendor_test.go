package infra

import (
	"testing"

	"github.com/s3vend/s3vend/contract"
)

// TestTokenVendorPropsDefaults: zero values take the defaults (a zero
// throttle would stop the API), in one place, before validation.
func TestTokenVendorPropsDefaults(t *testing.T) {
	p := TokenVendorProps{}.withDefaults()
	if p.ThrottleRate != DefaultThrottleRate || p.ThrottleBurst != DefaultThrottleBurst {
		t.Errorf("throttle = %v/%d, want the defaults %v/%d", p.ThrottleRate, p.ThrottleBurst, DefaultThrottleRate, DefaultThrottleBurst)
	}
	if p.Timeout != contract.DefaultLambdaTimeout || p.LogRetention != DefaultLogRetention || p.MemoryMB != 256 ||
		p.TokenDuration != contract.DefaultTokenDuration || p.CredentialLifetime != contract.DefaultCredentialDuration {
		t.Errorf("defaults: %+v", p)
	}
	set := TokenVendorProps{ThrottleRate: 1.5, ThrottleBurst: 3}.withDefaults()
	if set.ThrottleRate != 1.5 || set.ThrottleBurst != 3 {
		t.Errorf("set throttle overridden: %v/%d", set.ThrottleRate, set.ThrottleBurst)
	}
}
