package test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
	"github.com/s3vend/s3vend/infra"
)

// alarmsByName returns the stack's alarms by AlarmName.
func alarmsByName(t testing.TB, tpl map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, r := range resources(tpl, "AWS::CloudWatch::Alarm") {
		out[str(t, r, "Properties", "AlarmName")] = props(r)
	}
	return out
}

// metricStats returns every metric an alarm reads: its own, or those of its
// metric math.
func metricStats(t testing.TB, alarm map[string]any) []map[string]any {
	t.Helper()
	if alarm["MetricName"] != nil {
		return []map[string]any{alarm}
	}
	var out []map[string]any
	for i := range list(t, alarm, "Metrics") {
		if _, ok := obj(t, alarm, "Metrics", i)["MetricStat"]; ok {
			out = append(out, obj(t, alarm, "Metrics", i, "MetricStat", "Metric"))
		}
	}
	return out
}

func dimensions(t testing.TB, metric map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	ds, _ := metric["Dimensions"].([]any) // none: no dimensions
	for i := range ds {
		out[str(t, ds, i, "Name")] = obj(t, ds, i)["Value"]
	}
	return out
}

// TestAlarmsFromConfig: every environment with alarms on (the default) has
// each alarm, named after its stack, with the configured threshold, sending
// ALARM and OK to the stack's encrypted, TLS-only topic; e-mail
// subscriptions exist exactly as configured; "enabled": false creates none.
func TestAlarmsFromConfig(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			// GIVEN the environment's parsed configuration and template
			env := envConfig(t, strings.TrimPrefix(stack, "S3Vend-"))
			tpl := stackTemplate(t, stack)
			alarms := alarmsByName(t, tpl)
			if !env.Alarms.Enabled {
				// THEN an opted-out environment has no alarm, topic or dashboard
				if len(alarms) != 0 || len(resources(tpl, "AWS::SNS::Topic")) != 0 || len(resources(tpl, "AWS::CloudWatch::Dashboard")) != 0 {
					t.Errorf("alarms disabled, yet %d alarms / topics / dashboards exist", len(alarms))
				}
				return
			}
			topicID, topic := only(t, tpl, "AWS::SNS::Topic")
			keyID, key := only(t, tpl, "AWS::KMS::Key")
			ref := mustJSON(map[string]any{"Ref": topicID})

			// THEN the topic is encrypted with its own rotating key, which
			// CloudWatch may use, and refuses plain-HTTP publishing
			if mustJSON(props(topic)["KmsMasterKeyId"]) != mustJSON(map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}}) {
				t.Errorf("topic key = %v", props(topic)["KmsMasterKeyId"])
			}
			if props(key)["EnableKeyRotation"] != true {
				t.Error("key rotation is off")
			}
			var cwKey bool
			for _, s := range statements(t, props(key)["KeyPolicy"]) {
				if mustJSON(s["Principal"]) == `{"Service":"cloudwatch.amazonaws.com"}` && s["Effect"] == "Allow" {
					cwKey = slices.Equal(strs(s["Action"]), []string{"kms:Decrypt", "kms:GenerateDataKey*"})
				}
			}
			if !cwKey {
				t.Error("the key policy does not let CloudWatch publish to the encrypted topic (kms:Decrypt, kms:GenerateDataKey*)")
			}
			_, tp := only(t, tpl, "AWS::SNS::TopicPolicy")
			var tls bool
			for _, s := range statements(t, props(tp)["PolicyDocument"]) {
				tls = tls || (s["Effect"] == "Deny" && mustJSON(s["Condition"]) == `{"Bool":{"aws:SecureTransport":"false"}}`)
			}
			if !tls {
				t.Error("the topic policy does not deny requests without TLS")
			}

			// THEN every alarm exists with the configured threshold and the topic as action
			th := env.Alarms.Thresholds
			timeoutMs := float64(envTimeoutMs(t, tpl))
			want := map[string]float64{
				infra.AlarmVendorServerErrorRate: th.ServerErrorRatePercent,
				infra.AlarmUpstreamThrottled:     float64(th.UpstreamThrottledPer5Min),
				infra.AlarmInvalidCredentials:    float64(th.InvalidCredentialsPer5Min),
				infra.AlarmFunctionErrors:        1,
				infra.AlarmFunctionThrottles:     1,
				infra.AlarmFunctionDuration:      timeoutMs * th.DurationPercentOfTimeout / 100,
				infra.AlarmAPIClientErrorRate:    th.APIClientErrorRatePercent,
				infra.AlarmAPIServerErrorRate:    th.APIServerErrorRatePercent,
			}
			if env.UserQuota.Enabled() {
				want[infra.AlarmMeteringDeadLetters] = 1 // abuse control's metering chain
			}
			if len(alarms) != len(want) || len(want) < len(infra.AlarmIDs) {
				t.Errorf("%d alarms, want %d", len(alarms), len(want))
			}
			for id, threshold := range want {
				a, ok := alarms[stack+"-"+id]
				if !ok {
					t.Errorf("no alarm %s-%s", stack, id)
					continue
				}
				if a["Threshold"] != threshold {
					t.Errorf("%s threshold %v, want %v", id, a["Threshold"], threshold)
				}
				if mustJSON(a["AlarmActions"]) != "["+ref+"]" || mustJSON(a["OKActions"]) != "["+ref+"]" {
					t.Errorf("%s actions %v / %v, want the topic", id, a["AlarmActions"], a["OKActions"])
				}
				if a["TreatMissingData"] != "notBreaching" || a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
					t.Errorf("%s: %v, %v", id, a["TreatMissingData"], a["ComparisonOperator"])
				}
				if e, ok := a["Metrics"].([]any); ok {
					expr := str(t, e, 0, "Expression")
					if !strings.Contains(expr, ">= "+strconv.Itoa(th.MinRequestsPer5Min)) {
						t.Errorf("%s: rate %q ignores minRequestsPer5Min %d", id, expr, th.MinRequestsPer5Min)
					}
				}
			}

			// THEN e-mail subscriptions are exactly the configured addresses
			var emails []string
			for _, s := range resources(tpl, "AWS::SNS::Subscription") {
				if props(s)["Protocol"] == "email" && mustJSON(props(s)["TopicArn"]) == ref {
					emails = append(emails, str(t, s, "Properties", "Endpoint"))
				}
			}
			slices.Sort(emails)
			wantEmails := slices.Sorted(slices.Values(env.Alarms.Emails))
			if !slices.Equal(emails, wantEmails) {
				t.Errorf("e-mail subscriptions %v, want %v", emails, wantEmails)
			}

			// THEN the dashboard is named after the stack and shows every alarm
			_, dash := only(t, tpl, "AWS::CloudWatch::Dashboard")
			if props(dash)["DashboardName"] != stack {
				t.Errorf("dashboard name %v", props(dash)["DashboardName"])
			}
			body := mustJSON(props(dash)["DashboardBody"])
			for id := range resources(tpl, "AWS::CloudWatch::Alarm") {
				if !strings.Contains(body, `"`+id+`","Arn"`) {
					t.Errorf("dashboard does not show alarm %s", id)
				}
			}
			// THEN it shows abuse control: revocations and quota denials, and
			// with userQuota the top identities, ranked from the metering
			// function's log line (contract.MeteringUsageLog)
			for _, want := range []string{contract.MetricRevocations, wire.CodeUserRevoked, wire.CodeQuotaExceeded} {
				if !strings.Contains(body, `\"`+want+`\"`) {
					t.Errorf("dashboard does not show %s", want)
				}
			}
			top := fmt.Sprintf(`filter msg = \\\"%s\\\"`, contract.MeteringUsageLog)
			if env.UserQuota.Enabled() != strings.Contains(body, top) ||
				env.UserQuota.Enabled() != strings.Contains(body, "by "+contract.LogFieldIdentityID) {
				t.Errorf("userQuota %v, yet the top-identities query is %v in the dashboard", env.UserQuota.Enabled(), strings.Contains(body, top))
			}
		})
	}
}

// envTimeoutMs is the token vendor function's timeout in milliseconds.
func envTimeoutMs(t *testing.T, tpl map[string]any) int {
	t.Helper()
	_, fn := tokenVendorFunction(t, tpl)
	return int(num(t, fn, "Properties", "Timeout")) * 1000
}

// tokenVendorFunction is the function that has the vendor's environment.
func tokenVendorFunction(t *testing.T, tpl map[string]any) (string, map[string]any) {
	t.Helper()
	for id, r := range resources(tpl, "AWS::Lambda::Function") {
		if env, ok := props(r)["Environment"].(map[string]any); ok {
			if _, ok := obj(t, env, "Variables")[contract.EnvIdentityPoolID]; ok {
				return id, r
			}
		}
	}
	t.Fatal("no token vendor function")
	return "", nil
}

// TestAlarmsWatchWhatTheVendorEmits: each alarm on the S3Vend namespace uses
// a metric name and a dimension set the vendor emits (contract), its Stack
// dimension is the value the stack gives the vendor in S3VEND_METRICS_STACK,
// and its Code/StatusClass values are ones the vendor writes. The vendor's
// side of the same contract is tested in lambda/internal/metrics.
func TestAlarmsWatchWhatTheVendorEmits(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			tpl := stackTemplate(t, stack)
			_, fn := tokenVendorFunction(t, tpl)
			vars := obj(t, fn, "Properties", "Environment", "Variables")
			if vars[contract.EnvMetricsStack] != stack {
				t.Fatalf("%s = %v, want the stack name %s", contract.EnvMetricsStack, vars[contract.EnvMetricsStack], stack)
			}
			n := 0
			for name, a := range alarmsByName(t, tpl) {
				for _, m := range metricStats(t, a) {
					if m["Namespace"] != contract.MetricNamespace {
						continue
					}
					n++
					metric := str(t, m, "MetricName")
					sets, ok := contract.MetricDimensionSets[metric]
					if !ok {
						t.Errorf("%s: metric %q is not one the vendor emits", name, metric)
						continue
					}
					dims := dimensions(t, m)
					keys := make([]string, 0, len(dims))
					for k := range dims {
						keys = append(keys, k)
					}
					slices.Sort(keys)
					if !slices.ContainsFunc(sets, func(s []string) bool { return slices.Equal(slices.Sorted(slices.Values(s)), keys) }) {
						t.Errorf("%s: %s dimensions %v are none of the emitted sets %v", name, metric, keys, sets)
					}
					if dims[contract.DimStack] != vars[contract.EnvMetricsStack] {
						t.Errorf("%s: Stack = %v, vendor emits %v", name, dims[contract.DimStack], vars[contract.EnvMetricsStack])
					}
					if c, ok := dims[contract.DimCode]; ok && c != wire.CodeUpstreamThrottled && c != wire.CodeInvalidCredential {
						t.Errorf("%s: Code %v", name, c)
					}
					if c, ok := dims[contract.DimStatusClass]; ok && c != contract.ClassClient && c != contract.ClassServer {
						t.Errorf("%s: StatusClass %v", name, c)
					}
				}
			}
			if env := envConfig(t, strings.TrimPrefix(stack, "S3Vend-")); env.Alarms.Enabled && n < 4 {
				t.Errorf("only %d alarm metrics on %s", n, contract.MetricNamespace)
			}
		})
	}
}
