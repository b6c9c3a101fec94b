// Package metrics writes the token vendor's metrics as CloudWatch embedded
// metric format (EMF) records: one JSON object per line on the function's
// standard output, from which CloudWatch Logs extracts the metrics. No AWS
// call and no IAM permission is needed ("Lambda automatically sends
// everything that your function writes to standard output (STDOUT) to a
// CloudWatch Logs log group, and CloudWatch Logs extracts metrics from any
// log events that follow the embedded metric format specification",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html).
// The function runs on provided.al2023 with the JSON log format, where
// Lambda formats only its own system logs as JSON and passes application
// output that is already JSON through unchanged ("Lambda doesn't
// double-encode any logs that are already JSON-encoded",
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html).
//
// The record follows the specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// a root "_aws" object with "Timestamp" (milliseconds since the epoch) and
// "CloudWatchMetrics", an array of directives each with a "Namespace", a
// "Dimensions" array of dimension sets (at most 30 dimension names each) and a
// "Metrics" array (at most 100 definitions of "Name" and "Unit"); every
// dimension and metric name refers to a root member holding the string
// dimension value or the numeric metric value. Names and sets come from
// the contract, which the stack's alarms use too.
//
// Why not a library: AWS publishes EMF client libraries for Node.js, Python,
// Java and .NET only; the community Go ones (e.g.
// github.com/prozz/aws-embedded-metrics-golang) add their own ServiceName/
// ServiceType dimensions from AWS_LAMBDA_FUNCTION_NAME, which would change
// the dimension sets the alarms match, and validate nothing. The format this
// service needs is a fixed, small document, written and checked here.
package metrics

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/s3vend/s3vend/contract"
)

// Limits of the specification, checked by the tests.
const (
	MaxDimensionsPerSet     = 30
	MaxMetricsPerDirective  = 100
	maxDimensionValueLength = 1024 // CloudWatch Dimension.Value
)

// Request is the outcome of one HTTP request.
type Request struct {
	Route    string // a route name chosen by the HTTP adapter ("token", "other", ...)
	Provider string // the login provider the request named, if any (checked against the configured names)
	Status   int    // HTTP status
	Code     string // error code of the body, for a 4xx/5xx
	// CacheHit reports a successful vend served from the instance's cache.
	CacheHit bool
}

// Recorder writes EMF records to w. A nil *Recorder records nothing.
type Recorder struct {
	mu        sync.Mutex
	w         io.Writer
	stack     string
	providers map[string]bool
	now       func() time.Time
}

// Options configure New.
type Options struct {
	// Stack is the Stack dimension value (contract.EnvMetricsStack); empty
	// turns metrics off (New returns nil).
	Stack string
	// Providers are the configured verifier names, the only Provider values
	// recorded; anything else is contract.ProviderUnknown.
	Providers []string
	Now       func() time.Time
}

// New returns a recorder writing to w, or nil when o.Stack is empty.
func New(w io.Writer, o Options) *Recorder {
	if o.Stack == "" || w == nil {
		return nil
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	p := make(map[string]bool, len(o.Providers))
	for _, n := range o.Providers {
		p[n] = true
	}
	return &Recorder{w: w, stack: o.Stack, providers: p, now: o.Now}
}

var (
	routeRE = regexp.MustCompile(`^[a-z]{1,32}$`)
	codeRE  = regexp.MustCompile(`^[a-z_]{1,64}$`)
	opRE    = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)
)

// vendRoutes answer 200 with credentials or a token: a Vends sample.
var vendRoutes = map[string]bool{"token": true, "credentials": true, "session": true, "guest": true, "upload": true}

// Request records one answered request: Requests, and Vends and CacheHits
// for a vend, or Errors for a 4xx/5xx.
func (r *Recorder) Request(q Request) {
	if r == nil {
		return
	}
	route := q.Route
	if !routeRE.MatchString(route) {
		route = "other"
	}
	rec := newRecord(r.now())
	rec.dims[contract.DimStack] = r.stack
	rec.dims[contract.DimRoute] = route
	rec.add(contract.MetricRequests, 1)
	switch {
	case q.Status >= 200 && q.Status < 300 && vendRoutes[route]:
		rec.dims[contract.DimProvider] = r.provider(q.Provider)
		hit := 0.0
		if q.CacheHit {
			hit = 1
		}
		rec.add(contract.MetricVends, 1)
		rec.add(contract.MetricCacheHits, hit)
	case q.Status >= 400 && q.Status < 600:
		class := contract.ClassClient
		if q.Status >= http.StatusInternalServerError {
			class = contract.ClassServer
		}
		code := q.Code
		if !codeRE.MatchString(code) {
			code = "unknown"
		}
		rec.dims[contract.DimStatusClass] = class
		rec.dims[contract.DimCode] = code
		rec.add(contract.MetricErrors, 1)
	}
	r.write(rec)
}

// Upstream records the duration of one AWS SDK operation.
func (r *Recorder) Upstream(operation string, d time.Duration) {
	if r == nil {
		return
	}
	if !opRE.MatchString(operation) {
		operation = "other"
	}
	rec := newRecord(r.now())
	rec.dims[contract.DimStack] = r.stack
	rec.dims[contract.DimOperation] = operation
	rec.add(contract.MetricUpstreamLatency, float64(d.Microseconds())/1000)
	r.write(rec)
}

// Metering records one batch of the metering function: MeteredEvents
// (events applied) and StaleEvents (duplicates and out-of-order events
// dropped).
func (r *Recorder) Metering(applied, stale int) {
	if r == nil {
		return
	}
	rec := newRecord(r.now())
	rec.dims[contract.DimStack] = r.stack
	rec.add(contract.MetricMeteredEvents, float64(applied))
	rec.add(contract.MetricStaleEvents, float64(stale))
	r.write(rec)
}

// provider is the Provider dimension value: a configured name, or a fixed
// placeholder (never text from the request).
func (r *Recorder) provider(name string) string {
	switch {
	case name == "":
		return contract.ProviderNone
	case r.providers[name]:
		return name
	default:
		return contract.ProviderUnknown
	}
}

// record collects the members of one EMF document.
type record struct {
	ts      int64
	dims    map[string]string
	metrics []string
	values  map[string]float64
}

func newRecord(t time.Time) *record {
	return &record{ts: t.UnixMilli(), dims: map[string]string{}, values: map[string]float64{}}
}

func (r *record) add(name string, v float64) {
	r.metrics = append(r.metrics, name)
	r.values[name] = v
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

type definition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// directives groups the record's metrics by dimension sets (one directive
// per distinct list of sets, in the order metrics were added).
func (r *record) directives() []directive {
	var out []directive
	index := map[string]int{}
	for _, m := range r.metrics {
		sets := contract.MetricDimensionSets[m]
		key, _ := json.Marshal(sets)
		i, ok := index[string(key)]
		if !ok {
			i = len(out)
			index[string(key)] = i
			out = append(out, directive{Namespace: contract.MetricNamespace, Dimensions: sets})
		}
		out[i].Metrics = append(out[i].Metrics, definition{Name: m, Unit: contract.MetricUnits[m]})
	}
	return out
}

// MarshalJSON writes the root object: "_aws", the dimension values used by
// the directives, and the metric values.
func (r *record) MarshalJSON() ([]byte, error) {
	dirs := r.directives()
	root := map[string]any{"_aws": metadata{Timestamp: r.ts, CloudWatchMetrics: dirs}}
	for _, d := range dirs {
		for _, set := range d.Dimensions {
			for _, name := range set {
				v := r.dims[name]
				if len(v) > maxDimensionValueLength {
					v = v[:maxDimensionValueLength]
				}
				root[name] = v
			}
		}
	}
	for name, v := range r.values {
		root[name] = v
	}
	return json.Marshal(root)
}

func (r *Recorder) write(rec *record) {
	line, err := json.Marshal(rec)
	if err != nil {
		return // cannot happen: strings and float64 only
	}
	line = append(line, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.w.Write(line) // one Write per line: lines of concurrent requests never interleave
}
