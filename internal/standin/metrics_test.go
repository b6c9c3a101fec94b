package standin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/standin"
)

// series names one CloudWatch metric: namespace, name and dimensions.
func series(namespace, name string, dims map[string]string) string {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(namespace + "/" + name)
	for _, k := range keys {
		b.WriteString(" " + k + "=" + dims[k])
	}
	return b.String()
}

// emitted lists the series of every EMF record in the vendor's log, as
// CloudWatch Logs would extract them.
func emitted(t *testing.T, log []byte) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(log))
	for sc.Scan() {
		var root map[string]any
		if json.Unmarshal(sc.Bytes(), &root) != nil || root["_aws"] == nil {
			continue
		}
		var meta struct {
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name string }
			}
		}
		b, _ := json.Marshal(root["_aws"])
		if err := json.Unmarshal(b, &meta); err != nil {
			t.Fatalf("bad _aws: %s", sc.Bytes())
		}
		for _, d := range meta.CloudWatchMetrics {
			for _, set := range d.Dimensions {
				dims := map[string]string{}
				for _, n := range set {
					dims[n], _ = root[n].(string)
				}
				for _, m := range d.Metrics {
					out[series(d.Namespace, m.Name, dims)] = true
				}
			}
		}
	}
	return out
}

// alarmSeries lists the vendor-namespace series the template's alarms read.
func alarmSeries(t *testing.T, tmpl map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{} // series -> alarm name
	for _, r := range tmpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::CloudWatch::Alarm" {
			continue
		}
		p := res["Properties"].(map[string]any)
		var metrics []map[string]any
		if p["MetricName"] != nil {
			metrics = append(metrics, p)
		}
		qs, _ := p["Metrics"].([]any)
		for _, q := range qs {
			if ms, ok := q.(map[string]any)["MetricStat"].(map[string]any); ok {
				metrics = append(metrics, ms["Metric"].(map[string]any))
			}
		}
		for _, m := range metrics {
			if m["Namespace"] != contract.MetricNamespace {
				continue
			}
			dims := map[string]string{}
			ds, _ := m["Dimensions"].([]any)
			for _, d := range ds {
				dm := d.(map[string]any)
				dims[dm["Name"].(string)], _ = dm["Value"].(string)
			}
			out[series(contract.MetricNamespace, m["MetricName"].(string), dims)] = p["AlarmName"].(string)
		}
	}
	return out
}

// TestVendorMetricsFeedTheAlarms runs the real vendor from the dev snapshot
// (its environment as deployed) and checks that a success, a rejected login
// and a throttled Cognito call produce exactly the series the template's
// alarms read: the alarms would see data, not INSUFFICIENT_DATA forever.
func TestVendorMetricsFeedTheAlarms(t *testing.T) {
	tmpl := loadTemplate(t, "dev")
	want := alarmSeries(t, tmpl)
	if len(want) < 4 {
		t.Fatalf("the dev template's alarms read %d vendor series: %v", len(want), want)
	}
	var log bytes.Buffer
	sw := &syncWriter{w: &log}
	st, err := standin.StartStack(context.Background(), standin.StackOptions{
		Template: tmpl, Node: nodeBinary(t), VendorBinary: buildVendor(t), WorkDir: t.TempDir(), VendorLog: sw,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	if status, out := vend(t, st, "/v1/token", map[string]string{"provider": "backend", "credential": mint(t, st, "alice")}); status != http.StatusOK {
		t.Fatalf("login: %d %v", status, out)
	}
	if status, _ := vend(t, st, "/v1/token", map[string]string{"provider": "backend", "credential": "not-a-jwt"}); status != http.StatusUnauthorized {
		t.Fatalf("bad login: %d", status)
	}
	st.Cognito.FailNext(standin.OpGetOpenIDTokenForDeveloperIdentity, "TooManyRequestsException", 10)
	status, out := vend(t, st, "/v1/token", map[string]string{"provider": "backend", "credential": mint(t, st, "bob")})
	st.Cognito.FailNext(standin.OpGetOpenIDTokenForDeveloperIdentity, "", 0)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("throttled: %d %v", status, out)
	}

	sw.mu.Lock()
	got := emitted(t, log.Bytes())
	sw.mu.Unlock()
	for s, alarm := range want {
		if !got[s] {
			t.Errorf("alarm %s reads %s, which the vendor never emitted; emitted:\n%s", alarm, s, strings.Join(slices.Sorted(maps.Keys(got)), "\n"))
		}
	}
	if !got[series(contract.MetricNamespace, contract.MetricUpstreamLatency, map[string]string{
		contract.DimStack: "S3Vend-dev", contract.DimOperation: "GetOpenIdTokenForDeveloperIdentity"})] {
		t.Error("no UpstreamLatency for GetOpenIdTokenForDeveloperIdentity")
	}
}
