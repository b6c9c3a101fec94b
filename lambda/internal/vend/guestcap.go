package vend

import (
	"time"

	"golang.org/x/time/rate"
)

// Default per-instance cap on new guest identities (GetId calls): a
// sustained rate and a burst. Each new guest costs GetId + GetOpenIdToken
// (+ AssumeRoleWithWebIdentity) and creates an identity that stays in the
// pool, and GetId has an account-wide quota (25 requests per second by
// default), so one client looping on POST /v1/guest must not spend it for
// everyone. Guests that send back their identityId are not counted.
const (
	DefaultNewGuestsPerSecond = 5
	DefaultNewGuestsBurst     = 10
)

// newGuestLimiter returns the cap for cfg: zero values get the defaults, a
// negative rate disables the cap.
func newGuestLimiter(cfg Config) *rate.Limiter {
	perSecond, burst := cfg.NewGuestsPerSecond, cfg.NewGuestsBurst
	if perSecond < 0 {
		return nil
	}
	if perSecond == 0 {
		perSecond = DefaultNewGuestsPerSecond
	}
	if burst <= 0 {
		burst = DefaultNewGuestsBurst
	}
	return rate.NewLimiter(rate.Limit(perSecond), burst)
}

// allowNewGuest takes one token of the new-guest cap at now.
func (s *Service) allowNewGuest(now time.Time) bool {
	return s.newGuests == nil || s.newGuests.AllowN(now, 1)
}
