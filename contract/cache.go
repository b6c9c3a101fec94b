package contract

import (
	"strconv"
	"time"
)

// The token vendor's per-instance reuse cache
// (docs/quotas-and-cache.md#the-reuse-cache): a user who vends again while an earlier token or
// credentials are still valid for at least MinRemaining gets them again
// without an AWS call. cdk.json ("cache") and the service (S3VEND_CACHE_*)
// both go through CacheSettings.Normalize.
const (
	EnvCacheEnabled      = "S3VEND_CACHE_ENABLED"
	EnvCacheMaxEntries   = "S3VEND_CACHE_MAX_ENTRIES"
	EnvCacheMinRemaining = "S3VEND_CACHE_MIN_REMAINING_SECONDS"
)

// Cache limits. An entry is a few hundred bytes (a Cognito OpenID token of
// about 1 KB, or STS credentials of about 1.5 KB, and the key), so the
// largest cache stays well below the function's memory: 100,000 entries of
// ~2.5 KB is ~250 MB only at the very top, the default 10,000 ~25 MB.
const (
	DefaultCacheMaxEntries   = 10000
	MaxCacheMaxEntries       = 100000
	DefaultCacheMinRemaining = 5 * time.Minute
	MinCacheMinRemaining     = 30 * time.Second
	MaxCacheMinRemaining     = 12 * time.Hour
)

// CacheSettings configure the reuse cache.
type CacheSettings struct {
	Disabled     bool          // the off switch; the zero value is on
	MaxEntries   int           // 1..MaxCacheMaxEntries; 0: DefaultCacheMaxEntries
	MinRemaining time.Duration // MinCacheMinRemaining..MaxCacheMinRemaining, whole seconds; 0: DefaultCacheMinRemaining
}

// Normalize validates c and returns a copy with defaults applied. The error
// is a FieldErrors naming the field at fault: maxEntries or minRemaining.
func (c CacheSettings) Normalize() (CacheSettings, error) {
	return c.normalize(func(field string) string { return field })
}

func (c CacheSettings) normalize(name func(string) string) (CacheSettings, error) {
	var errs FieldErrors
	switch {
	case c.MaxEntries == 0:
		c.MaxEntries = DefaultCacheMaxEntries
	case c.MaxEntries < 1 || c.MaxEntries > MaxCacheMaxEntries:
		errs.Add(name("maxEntries"), "%d must be from 1 to %d entries", c.MaxEntries, MaxCacheMaxEntries)
	}
	switch {
	case c.MinRemaining == 0:
		c.MinRemaining = DefaultCacheMinRemaining
	case c.MinRemaining < MinCacheMinRemaining || c.MinRemaining > MaxCacheMinRemaining || c.MinRemaining%time.Second != 0:
		errs.Add(name("minRemaining"), "%s must be whole seconds from %s to %s", c.MinRemaining, MinCacheMinRemaining, MaxCacheMinRemaining)
	}
	if len(errs) > 0 {
		return CacheSettings{}, errs
	}
	return c, nil
}

// Env returns the environment variables that carry c (normalized) to the
// service; ParseCacheEnv reads them back.
func (c CacheSettings) Env() map[string]string {
	return map[string]string{
		EnvCacheEnabled:      strconv.FormatBool(!c.Disabled),
		EnvCacheMaxEntries:   strconv.Itoa(c.MaxEntries),
		EnvCacheMinRemaining: strconv.Itoa(int(c.MinRemaining / time.Second)),
	}
}

var cacheEnvNames = map[string]string{"maxEntries": EnvCacheMaxEntries, "minRemaining": EnvCacheMinRemaining}

// ParseCacheEnv reads S3VEND_CACHE_ENABLED (true or false; unset: true),
// S3VEND_CACHE_MAX_ENTRIES and S3VEND_CACHE_MIN_REMAINING_SECONDS; an unset
// variable takes the default. Errors name the variable.
func ParseCacheEnv(getenv func(string) string) (CacheSettings, error) {
	var c CacheSettings
	var errs FieldErrors
	switch getenv(EnvCacheEnabled) {
	case "", "true":
	case "false":
		c.Disabled = true
	default:
		errs.Add(EnvCacheEnabled, "must be true or false")
	}
	c.MaxEntries = int(envCount(getenv, EnvCacheMaxEntries, &errs, "must be an integer from 1 to %d", MaxCacheMaxEntries))
	c.MinRemaining = time.Duration(envCount(getenv, EnvCacheMinRemaining, &errs, "must be an integer number of seconds from %d to %d",
		int(MinCacheMinRemaining/time.Second), int(MaxCacheMinRemaining/time.Second))) * time.Second
	if len(errs) > 0 {
		return CacheSettings{}, errs
	}
	return c.normalize(func(field string) string { return cacheEnvNames[field] })
}
