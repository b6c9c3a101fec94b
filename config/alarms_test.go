package config_test

import (
	"strings"
	"testing"

	"github.com/s3vend/s3vend/config"
)

func TestAlarmsConfig(t *testing.T) {
	// GIVEN no "alarms" key THEN alarms are on with the defaults and no e-mail
	e, err := parseOne("dev", validEnv())
	if err != nil {
		t.Fatal(err)
	}
	if !e.Alarms.Enabled || e.Alarms.Thresholds != config.DefaultAlarmThresholds || len(e.Alarms.Emails) != 0 {
		t.Errorf("defaults: %+v", e.Alarms)
	}
	// GIVEN one threshold THEN the others keep their defaults
	env := validEnv()
	env["alarms"] = map[string]any{"invalidCredentialsPer5Min": 500}
	if e, err = parseOne("dev", env); err != nil || e.Alarms.Thresholds.InvalidCredentialsPer5Min != 500 ||
		e.Alarms.Thresholds.ServerErrorRatePercent != config.DefaultAlarmThresholds.ServerErrorRatePercent {
		t.Errorf("partial thresholds: %+v %v", e.Alarms, err)
	}

	cases := []struct {
		name  string
		alarm map[string]any
		key   string
		hint  string
	}{
		{"bad e-mail", map[string]any{"email": []any{"ops at example.com"}}, "alarms.email[0]", "plain e-mail address"},
		{"display name", map[string]any{"email": []any{"Ops <ops@example.com>"}}, "alarms.email[0]", "plain e-mail address"},
		{"no domain", map[string]any{"email": []any{"ops@localhost"}}, "alarms.email[0]", "full domain"},
		{"duplicate e-mail", map[string]any{"email": []any{"ops@example.com", "OPS@example.com"}}, "alarms.email[1]", "twice"},
		{"e-mail while off", map[string]any{"enabled": false, "email": []any{"ops@example.com"}}, "alarms.email", "no effect"},
		{"zero count", map[string]any{"upstreamThrottledPer5Min": 0}, "alarms.upstreamThrottledPer5Min", "from 1"},
		{"rate over 100", map[string]any{"serverErrorRatePercent": 150}, "alarms.serverErrorRatePercent", "to 100"},
		{"duration too low", map[string]any{"durationPercentOfTimeout": 5}, "alarms.durationPercentOfTimeout", "from 10"},
		{"unknown key", map[string]any{"emails": []any{"ops@example.com"}}, "s3vend.environments.dev", `unknown key "emails"`},
		{"wrong type", map[string]any{"minRequestsPer5Min": "ten"}, "s3vend.environments.dev", `"alarms.minRequestsPer5Min"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := validEnv()
			env["alarms"] = c.alarm
			_, err := parseOne("dev", env)
			if err == nil {
				t.Fatalf("want an error naming %s", c.key)
			}
			if !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), c.hint) {
				t.Errorf("error does not name %q with hint %q:\n%v", c.key, c.hint, err)
			}
		})
	}
}
