package contract

// Metrics the token vendor emits in CloudWatch embedded metric format (EMF)
// and the stack's alarms and dashboard read (infra.NewMonitoring). Both
// sides use these names, so an alarm cannot watch a metric the vendor does
// not emit.
//
// Cardinality is bounded: every dimension value is code-authored (routes,
// error codes, AWS operation names) or a configured verifier name; anything
// else becomes ProviderUnknown (never a value taken from a request).

// EnvMetricsStack is the value of the Stack dimension (the CloudFormation
// stack name). The stack always sets it; unset (local mode), the vendor
// emits no metrics.
const EnvMetricsStack = "S3VEND_METRICS_STACK"

// MetricNamespace is the CloudWatch namespace of every vendor metric.
const MetricNamespace = "S3Vend"

// Metric names.
const (
	// MetricRequests is 1 per HTTP request the vendor answered.
	MetricRequests = "Requests"
	// MetricVends is 1 per successful vend (token, credentials, guest, upload).
	MetricVends = "Vends"
	// MetricCacheHits is 1 when a successful vend was served from the
	// instance's cache, else 0 (its Average is the hit ratio).
	MetricCacheHits = "CacheHits"
	// MetricErrors is 1 per 4xx/5xx answer.
	MetricErrors = "Errors"
	// MetricUpstreamLatency is the duration of one AWS SDK operation
	// (retries included), in milliseconds.
	MetricUpstreamLatency = "UpstreamLatency"
)

// Dimension names.
const (
	DimStack       = "Stack"
	DimRoute       = "Route"
	DimProvider    = "Provider"
	DimCode        = "Code"
	DimStatusClass = "StatusClass"
	DimOperation   = "Operation"
)

// Dimension values that are not taken from the configuration. Verifier
// names match [a-z0-9-]{1,32}, so the parentheses keep these apart from any
// configured name.
const (
	ProviderNone    = "(none)"    // the route takes no provider (guest)
	ProviderUnknown = "(unknown)" // anything that is not a configured verifier name
	ClassClient     = "4xx"
	ClassServer     = "5xx"
)

// MetricDimensionSets are the dimension sets each metric is emitted with;
// an alarm or graph must use exactly one of them to find data. Stack comes
// first in each.
var MetricDimensionSets = map[string][][]string{
	MetricRequests:        {{DimStack}, {DimStack, DimRoute}},
	MetricVends:           {{DimStack}, {DimStack, DimRoute, DimProvider}},
	MetricCacheHits:       {{DimStack}, {DimStack, DimRoute, DimProvider}},
	MetricErrors:          {{DimStack, DimStatusClass}, {DimStack, DimCode}},
	MetricUpstreamLatency: {{DimStack, DimOperation}},
	// Abuse control (abuse.go): the s3vend CLI and the metering function.
	MetricRevocations:   {{DimStack}},
	MetricMeteredEvents: {{DimStack}},
	MetricStaleEvents:   {{DimStack}},
}

// MetricUnits are the EMF units of each metric.
var MetricUnits = map[string]string{
	MetricRequests:        "Count",
	MetricVends:           "Count",
	MetricCacheHits:       "Count",
	MetricErrors:          "Count",
	MetricUpstreamLatency: "Milliseconds",
	MetricRevocations:     "Count",
	MetricMeteredEvents:   "Count",
	MetricStaleEvents:     "Count",
}

// Names are the configured verifier names: the only Provider dimension
// values besides ProviderNone and ProviderUnknown.
func (v Verifiers) Names() []string {
	var out []string
	for _, o := range v.OIDC {
		out = append(out, o.Name)
	}
	if v.WeChat != nil {
		out = append(out, v.WeChat.Name)
	}
	if v.HS256 != nil {
		out = append(out, v.HS256.Name)
	}
	return out
}
