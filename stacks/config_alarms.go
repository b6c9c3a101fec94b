package stacks

import (
	"fmt"
	"strings"

	"github.com/s3vend/s3vend/infra"
)

// AlarmsConfig is the "alarms" key: alarms, an encrypted SNS topic and a
// dashboard per environment. On by default (protection is the default);
// "enabled": false is the explicit opt-out.
type AlarmsConfig struct {
	Enabled    bool
	Emails     []string // e-mail subscriptions of the alarm topic
	Thresholds infra.AlarmThresholds
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
// (infra.AlarmThresholds.Validate, infra.CheckEmail).
func (v *validator) alarms(e *EnvConfig, r *rawAlarms) {
	e.Alarms = AlarmsConfig{Enabled: true, Thresholds: infra.DefaultAlarmThresholds}
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
	for _, err := range t.Validate() {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		v.fail("alarms."+field, "%s", msg)
	}
	if len(r.Email) > maxAlarmEmails {
		v.fail("alarms.email", "lists %d addresses; give at most %d (use a mailing list for more)", len(r.Email), maxAlarmEmails)
	}
	seen := map[string]bool{}
	for i, a := range r.Email {
		key := fmt.Sprintf("alarms.email[%d]", i)
		if err := infra.CheckEmail(a); err != nil {
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
