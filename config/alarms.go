package config

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/s3vend/s3vend/contract"
)

// Alarms is the "alarms" key: alarms, an encrypted SNS topic and a
// dashboard per environment. On by default (protection is the default);
// "enabled": false is the explicit opt-out.
type Alarms struct {
	Enabled    bool
	Emails     []string // "email": e-mail subscriptions of the alarm topic
	Thresholds AlarmThresholds
}

// AlarmThresholds are the alarm thresholds of one environment. Each field
// has the cdk.json key (under "alarms") in its json tag; Validate names it.
type AlarmThresholds struct {
	// ServerErrorRatePercent: vendor 5xx answers as a share of its requests
	// in 5 minutes.
	ServerErrorRatePercent float64 `json:"serverErrorRatePercent"`
	// UpstreamThrottledPer5Min: upstream_throttled (503) answers in 5
	// minutes: Cognito or STS still throttled after the SDK's retries.
	UpstreamThrottledPer5Min int `json:"upstreamThrottledPer5Min"`
	// InvalidCredentialsPer5Min: invalid_credential (401) answers in 5
	// minutes; a spike is credential stuffing or a broken issuer key.
	InvalidCredentialsPer5Min int `json:"invalidCredentialsPer5Min"`
	// DurationPercentOfTimeout: the function's p99 duration as a share of
	// its timeout.
	DurationPercentOfTimeout float64 `json:"durationPercentOfTimeout"`
	// APIClientErrorRatePercent and APIServerErrorRatePercent: the HTTP
	// API's 4xx and 5xx as a share of its requests (includes API Gateway's
	// own 429s and integration failures, which the vendor never sees).
	APIClientErrorRatePercent float64 `json:"apiClientErrorRatePercent"`
	APIServerErrorRatePercent float64 `json:"apiServerErrorRatePercent"`
	// MinRequestsPer5Min: the rate alarms stay OK below this many requests
	// in 5 minutes, so that one failed request of two does not page anyone.
	MinRequestsPer5Min int `json:"minRequestsPer5Min"`
}

// DefaultAlarmThresholds are used for every key cdk.json leaves out.
var DefaultAlarmThresholds = AlarmThresholds{
	ServerErrorRatePercent:    5,
	UpstreamThrottledPer5Min:  1,
	InvalidCredentialsPer5Min: 100,
	DurationPercentOfTimeout:  80,
	APIClientErrorRatePercent: 25,
	APIServerErrorRatePercent: 5,
	MinRequestsPer5Min:        20,
}

// Validate returns one field error per threshold out of range, each naming
// the threshold's cdk.json key; nil when every one is in range.
func (t AlarmThresholds) Validate() error {
	var errs contract.FieldErrors
	pct := func(key string, v, lo float64) {
		if v < lo || v > 100 {
			errs.Add(key, "%v must be from %v to 100 (percent)", v, lo)
		}
	}
	count := func(key string, v int) {
		if v < 1 || v > 1_000_000 {
			errs.Add(key, "%d must be from 1 to 1000000", v)
		}
	}
	pct("serverErrorRatePercent", t.ServerErrorRatePercent, 0.1)
	count("upstreamThrottledPer5Min", t.UpstreamThrottledPer5Min)
	count("invalidCredentialsPer5Min", t.InvalidCredentialsPer5Min)
	pct("durationPercentOfTimeout", t.DurationPercentOfTimeout, 10)
	pct("apiClientErrorRatePercent", t.APIClientErrorRatePercent, 0.1)
	pct("apiServerErrorRatePercent", t.APIServerErrorRatePercent, 0.1)
	count("minRequestsPer5Min", t.MinRequestsPer5Min)
	return errs.Err()
}

// CheckEmail reports whether addr is a plain e-mail address (no display
// name, a dotted domain) that an SNS email subscription accepts.
func CheckEmail(addr string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" {
		return errors.New("is not a plain e-mail address like \"ops@example.com\"")
	}
	if _, domain, _ := strings.Cut(addr, "@"); !strings.Contains(strings.Trim(domain, "."), ".") {
		return errors.New("needs a full domain, like \"ops@example.com\"")
	}
	return nil
}

// rawAlarms mirrors the JSON of the "alarms" key. Thresholds are pointers so
// that a key left out takes the default and an explicit 0 is an error.
type rawAlarms struct {
	Enabled                   *bool    `json:"enabled"`
	Email                     []string `json:"email"`
	ServerErrorRatePercent    *float64 `json:"serverErrorRatePercent"`
	UpstreamThrottledPer5Min  *int     `json:"upstreamThrottledPer5Min"`
	InvalidCredentialsPer5Min *int     `json:"invalidCredentialsPer5Min"`
	DurationPercentOfTimeout  *float64 `json:"durationPercentOfTimeout"`
	APIClientErrorRatePercent *float64 `json:"apiClientErrorRatePercent"`
	APIServerErrorRatePercent *float64 `json:"apiServerErrorRatePercent"`
	MinRequestsPer5Min        *int     `json:"minRequestsPer5Min"`
}

// maxAlarmEmails bounds the subscriptions per topic in cdk.json (each one
// must be confirmed by hand; a longer list belongs in a mailing list).
const maxAlarmEmails = 10

// alarms checks the "alarms" key with the construct's own rules
// (AlarmThresholds.Validate, CheckEmail), which infra.NewMonitoring runs too.
func (v *validator) alarms(e *Environment, r *rawAlarms) {
	e.Alarms = Alarms{Enabled: true, Thresholds: DefaultAlarmThresholds}
	if r == nil {
		return
	}
	e.Alarms.Enabled = boolOr(r.Enabled, true)
	t := &e.Alarms.Thresholds
	setF := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	setI := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	setF(&t.ServerErrorRatePercent, r.ServerErrorRatePercent)
	setI(&t.UpstreamThrottledPer5Min, r.UpstreamThrottledPer5Min)
	setI(&t.InvalidCredentialsPer5Min, r.InvalidCredentialsPer5Min)
	setF(&t.DurationPercentOfTimeout, r.DurationPercentOfTimeout)
	setF(&t.APIClientErrorRatePercent, r.APIClientErrorRatePercent)
	setF(&t.APIServerErrorRatePercent, r.APIServerErrorRatePercent)
	setI(&t.MinRequestsPer5Min, r.MinRequestsPer5Min)
	if err := t.Validate(); err != nil {
		v.failFields("alarms", err)
	}
	if len(r.Email) > maxAlarmEmails {
		v.fail("alarms.email", "lists %d addresses; give at most %d (use a mailing list for more)", len(r.Email), maxAlarmEmails)
	}
	seen := map[string]bool{}
	for i, a := range r.Email {
		key := fmt.Sprintf("alarms.email[%d]", i)
		if err := CheckEmail(a); err != nil {
			v.fail(key, "%q %v", a, err)
		} else if seen[strings.ToLower(a)] {
			v.fail(key, "%q is listed twice", a)
		}
		seen[strings.ToLower(a)] = true
	}
	e.Alarms.Emails = append([]string(nil), r.Email...)
	if !e.Alarms.Enabled && (len(r.Email) > 0) {
		v.fail("alarms.email", "has no effect with \"enabled\": false; remove it or turn the alarms on")
	}
}
