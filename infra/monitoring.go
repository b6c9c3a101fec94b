package infra

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/contract/wire"
)

// Alarm ids: each alarm is named "<stack name>-<id>" (stable, prefixed by
// the stack, so `cdk diff` and the console show which environment pages).
const (
	AlarmVendorServerErrorRate = "VendorServerErrorRate"
	AlarmUpstreamThrottled     = "UpstreamThrottled"
	AlarmInvalidCredentials    = "InvalidCredentialSpike"
	AlarmFunctionErrors        = "FunctionErrors"
	AlarmFunctionThrottles     = "FunctionThrottles"
	AlarmFunctionDuration      = "FunctionDurationNearTimeout"
	AlarmAPIClientErrorRate    = "ApiClientErrorRate"
	AlarmAPIServerErrorRate    = "ApiServerErrorRate"
)

// AlarmIDs lists every alarm NewMonitoring creates, in dashboard order.
var AlarmIDs = []string{
	AlarmVendorServerErrorRate, AlarmUpstreamThrottled, AlarmInvalidCredentials,
	AlarmFunctionErrors, AlarmFunctionThrottles, AlarmFunctionDuration,
	AlarmAPIClientErrorRate, AlarmAPIServerErrorRate,
}

// MonitoringProps configures NewMonitoring.
type MonitoringProps struct {
	// Name prefixes the alarms and names the dashboard and topic; it is also
	// the Stack dimension of the vendor's metrics (the stack name).
	Name            string
	Function        awslambda.IFunction
	FunctionTimeout time.Duration
	API             awsapigatewayv2.IHttpApi
	Thresholds      config.AlarmThresholds // zero: config.DefaultAlarmThresholds
	Emails          []string               // e-mail subscriptions of the alarm topic; may be empty
	Retain          bool
	// Abuse adds abuse control's row to the dashboard (refusals,
	// revocations, top users, metering) and, with metering, the
	// MeteringDeadLetters alarm; nil: none.
	Abuse *AbuseControl
}

func (p MonitoringProps) withDefaults() MonitoringProps {
	if p.Thresholds == (config.AlarmThresholds{}) {
		p.Thresholds = config.DefaultAlarmThresholds
	}
	p.Emails = slices.Clone(p.Emails)
	return p
}

func (p MonitoringProps) validate() error {
	var errs []error
	if !dashboardNameRE(p.Name) {
		errs = append(errs, fmt.Errorf("MonitoringProps.Name: %q must be 1-200 letters, digits, '-' or '_'", p.Name))
	}
	if p.Function == nil || p.API == nil {
		errs = append(errs, errors.New("MonitoringProps: Function and API are required"))
	}
	if p.FunctionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("MonitoringProps.FunctionTimeout: %s is below 1s", p.FunctionTimeout))
	}
	var thresholds contract.FieldErrors
	if errors.As(p.Thresholds.Validate(), &thresholds) {
		for _, e := range thresholds {
			errs = append(errs, fmt.Errorf("MonitoringProps.Thresholds.%s: %s", e.Field, e.Message))
		}
	}
	for i, a := range p.Emails {
		if err := config.CheckEmail(a); err != nil {
			errs = append(errs, fmt.Errorf("MonitoringProps.Emails[%d]: %q %w", i, a, err))
		}
	}
	return errors.Join(errs...)
}

// dashboardNameRE: CloudWatch dashboard names are "A-Z, a-z, 0-9, -, _"
// up to 255 characters (PutDashboard, DashboardName); alarm names get a
// suffix, so the prefix stays shorter.
func dashboardNameRE(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// Monitoring is the operations side of one environment: an encrypted SNS
// topic with optional e-mail subscriptions, alarms on the vendor's EMF
// metrics, the function and the HTTP API, and a dashboard of the same
// signals.
type Monitoring struct {
	constructs.Construct
	Topic     awssns.Topic
	Key       awskms.Key
	Alarms    map[string]awscloudwatch.Alarm // by alarm id (AlarmIDs)
	Dashboard awscloudwatch.Dashboard
}

// period of every alarm: 5 minutes, the unit of the count thresholds.
var period = awscdk.Duration_Minutes(jsii.Number(5))

// NewMonitoring creates the topic, the alarms and the dashboard.
func NewMonitoring(scope constructs.Construct, id string, props MonitoringProps) *Monitoring {
	p := props.withDefaults()
	if err := p.validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	m := &Monitoring{Construct: c, Alarms: map[string]awscloudwatch.Alarm{}}
	m.topic(p)
	s := newSignals(p)
	m.alarms(p, s)
	m.dashboard(p, s)
	return m
}

// topic creates the alarm topic, encrypted with its own customer managed
// key. CloudWatch cannot publish to a topic encrypted with the AWS managed
// key alias/aws/sns, whose key policy cannot be changed: "Enable
// compatibility between event sources from AWS services and encrypted
// topics" asks for a customer managed key whose policy lets the service
// principal (cloudwatch.amazonaws.com) call kms:GenerateDataKey* and
// kms:Decrypt (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
// SNS SSE is available in the China regions too: the AWS China user guide
// lists only mobile push, SMS and message data protection as missing
// (https://docs.amazonaws.cn/en_us/aws/latest/userguide/sns.html).
// The key encrypts this topic only; the topic keeps the default access
// policy (this account's principals), plus a deny of plain-HTTP requests.
func (m *Monitoring) topic(p MonitoringProps) {
	m.Key = awskms.NewKey(m.Construct, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Description:       jsii.String("s3vend " + p.Name + ": encrypts the alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removalPolicy(p.Retain),
	})
	m.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublishToTheEncryptedTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
	}), jsii.Bool(false))
	// Nothing needs grants on this key (SNS and CloudWatch use the key
	// policy): deny CreateGrant except for AWS services on AWS resources
	// (Control Tower CT.KMS.PR.3, cfn-guard kms_create_grant_aws_service_check).
	m.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("GrantsOnlyForAWSServices"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"BoolIfExists": map[string]string{
			"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false",
		}},
	}), jsii.Bool(false))
	m.Topic = awssns.NewTopic(m.Construct, jsii.String("AlarmTopic"), &awssns.TopicProps{
		TopicName:   jsii.String(p.Name + "-alarms"),
		DisplayName: jsii.String("s3vend " + p.Name + " alarms"),
		MasterKey:   m.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, addr := range p.Emails {
		m.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(addr), nil))
	}
}

// signals are the metrics the alarms and the dashboard share.
type signals struct {
	requests, serverErrors, clientErrors, throttled, invalid awscloudwatch.Metric
	vends, cacheHits                                         awscloudwatch.Metric
	fnErrors, fnThrottles, fnDuration, fnInvocations         awscloudwatch.Metric
	apiCount, api4xx, api5xx, apiLatency                     awscloudwatch.Metric
}

// vendorMetric is one of the vendor's EMF metrics; dims must be one of the
// dimension sets the vendor emits it with (contract.MetricDimensionSets).
func vendorMetric(name, stat string, dims map[string]string) awscloudwatch.Metric {
	dm := map[string]*string{}
	for k, v := range dims {
		dm[k] = jsii.String(v)
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(contract.MetricNamespace), MetricName: jsii.String(name),
		DimensionsMap: &dm, Statistic: jsii.String(stat), Period: period,
	})
}

func newSignals(p MonitoringProps) signals {
	stack := map[string]string{contract.DimStack: p.Name}
	with := func(k, v string) map[string]string {
		return map[string]string{contract.DimStack: p.Name, k: v}
	}
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: period}
	return signals{
		requests:      vendorMetric(contract.MetricRequests, "Sum", stack),
		serverErrors:  vendorMetric(contract.MetricErrors, "Sum", with(contract.DimStatusClass, contract.ClassServer)),
		clientErrors:  vendorMetric(contract.MetricErrors, "Sum", with(contract.DimStatusClass, contract.ClassClient)),
		throttled:     vendorMetric(contract.MetricErrors, "Sum", with(contract.DimCode, wire.CodeUpstreamThrottled)),
		invalid:       vendorMetric(contract.MetricErrors, "Sum", with(contract.DimCode, wire.CodeInvalidCredential)),
		vends:         vendorMetric(contract.MetricVends, "Sum", stack),
		cacheHits:     vendorMetric(contract.MetricCacheHits, "Sum", stack),
		fnErrors:      p.Function.MetricErrors(sum),
		fnThrottles:   p.Function.MetricThrottles(sum),
		fnInvocations: p.Function.MetricInvocations(sum),
		fnDuration:    p.Function.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: period}),
		// HTTP API metrics are 4xx, 5xx, Count, Latency and
		// IntegrationLatency, by ApiId (and ApiId, Stage)
		// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html);
		// these helpers use the ApiId dimension.
		apiCount:   p.API.MetricCount(sum),
		api4xx:     p.API.MetricClientError(sum),
		api5xx:     p.API.MetricServerError(sum),
		apiLatency: p.API.MetricLatency(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: period}),
	}
}

// rate is 100 * part / total when total reaches min, else 0: a rate alarm
// needs enough requests to mean anything.
func rate(label string, part, total awscloudwatch.IMetric, min int) awscloudwatch.MathExpression {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(fmt.Sprintf("IF(total >= %d, 100 * FILL(part, 0) / total, 0)", min)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"part": part, "total": total},
		Label:        jsii.String(label),
		Period:       period,
	})
}

type alarmSpec struct {
	id, description string
	metric          awscloudwatch.IMetric
	threshold       float64
}

// alarms creates every alarm. Each compares with >= over one 5-minute
// period and treats missing data as not breaching: no data means no
// traffic (the vendor emits Errors only when it answers with one, Lambda
// publishes nothing without invocations), which is healthy. Alarm and OK
// transitions both notify the topic.
func (m *Monitoring) alarms(p MonitoringProps, s signals) {
	t := p.Thresholds
	timeoutMs := float64(p.FunctionTimeout.Milliseconds())
	specs := []alarmSpec{
		{AlarmVendorServerErrorRate, fmt.Sprintf("Token vendor 5xx answers are at least %v%% of requests (5 min, at least %d requests). Runbook: docs/runbook.md.", t.ServerErrorRatePercent, t.MinRequestsPer5Min),
			rate("vendor 5xx %", s.serverErrors, s.requests, t.MinRequestsPer5Min), t.ServerErrorRatePercent},
		{AlarmUpstreamThrottled, fmt.Sprintf("At least %d upstream_throttled (503) answers in 5 minutes: a Cognito or STS quota is exhausted. Runbook: docs/runbook.md.", t.UpstreamThrottledPer5Min),
			s.throttled, float64(t.UpstreamThrottledPer5Min)},
		{AlarmInvalidCredentials, fmt.Sprintf("At least %d invalid_credential (401) answers in 5 minutes: credential stuffing, or an issuer key/secret changed. Runbook: docs/runbook.md.", t.InvalidCredentialsPer5Min),
			s.invalid, float64(t.InvalidCredentialsPer5Min)},
		{AlarmFunctionErrors, "The token vendor function failed (crash or timeout) at least once in 5 minutes. Runbook: docs/runbook.md.",
			s.fnErrors, 1},
		{AlarmFunctionThrottles, "Lambda throttled the token vendor function at least once in 5 minutes (account or reserved concurrency). Runbook: docs/runbook.md.",
			s.fnThrottles, 1},
		{AlarmFunctionDuration, fmt.Sprintf("The function's p99 duration reached %v%% of its %s timeout (5 min). Runbook: docs/runbook.md.", t.DurationPercentOfTimeout, p.FunctionTimeout),
			s.fnDuration, timeoutMs * t.DurationPercentOfTimeout / 100},
		{AlarmAPIClientErrorRate, fmt.Sprintf("HTTP API 4xx answers are at least %v%% of requests (5 min, at least %d requests). Runbook: docs/runbook.md.", t.APIClientErrorRatePercent, t.MinRequestsPer5Min),
			rate("API 4xx %", s.api4xx, s.apiCount, t.MinRequestsPer5Min), t.APIClientErrorRatePercent},
		{AlarmAPIServerErrorRate, fmt.Sprintf("HTTP API 5xx answers are at least %v%% of requests (5 min, at least %d requests). Runbook: docs/runbook.md.", t.APIServerErrorRatePercent, t.MinRequestsPer5Min),
			rate("API 5xx %", s.api5xx, s.apiCount, t.MinRequestsPer5Min), t.APIServerErrorRatePercent},
	}
	for _, sp := range specs {
		m.alarm(p.Name, sp)
	}
}

// alarm creates one alarm of the stack named name, as alarms describes,
// notifying the topic when it fires and when it clears.
func (m *Monitoring) alarm(name string, sp alarmSpec) awscloudwatch.Alarm {
	a := awscloudwatch.NewAlarm(m.Construct, jsii.String(sp.id), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(name + "-" + sp.id),
		AlarmDescription:   jsii.String(sp.description),
		Metric:             sp.metric,
		Threshold:          jsii.Number(sp.threshold),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		DatapointsToAlarm:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	action := awscloudwatchactions.NewSnsAction(m.Topic)
	a.AddAlarmAction(action)
	a.AddOkAction(action)
	m.Alarms[sp.id] = a
	return a
}

// search graphs every series of a vendor metric split by one dimension
// (error codes, AWS operations), whatever values occur.
func search(p MonitoringProps, metric, dim, stat, label string) awscloudwatch.MathExpression {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s" %s="%s"', '%s', 300)`,
			contract.MetricNamespace, contract.DimStack, dim, metric, contract.DimStack, p.Name, stat)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{},
		Label:        jsii.String(label),
		Period:       period,
	})
}

// dashboard shows the alarms' state and the same signals, named after the
// stack.
func (m *Monitoring) dashboard(p MonitoringProps, s signals) {
	var alarms []interfacesawscloudwatch.IAlarmRef
	for _, id := range AlarmIDs {
		alarms = append(alarms, m.Alarms[id])
	}
	graph := func(title string, left []awscloudwatch.IMetric, right []awscloudwatch.IMetric) awscloudwatch.IWidget {
		g := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(12), Height: jsii.Number(6), Period: period}
		if len(right) > 0 {
			g.Right = &right
		}
		return awscloudwatch.NewGraphWidget(g)
	}
	ms := func(metrics ...awscloudwatch.IMetric) []awscloudwatch.IMetric { return metrics }
	t := p.Thresholds
	hitRatio := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("100 * FILL(hits, 0) / vends"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"hits": s.cacheHits, "vends": s.vends},
		Label:        jsii.String("cache hit %"), Period: period,
	})
	rows := m.abuseRows(p, graph, &alarms)
	statusWidget := awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title: jsii.String("Alarms (runbook: docs/runbook.md)"), Alarms: &alarms, Width: jsii.Number(24), Height: jsii.Number(3),
	})
	m.Dashboard = awscloudwatch.NewDashboard(m.Construct, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(p.Name),
		Widgets: ptr(append([]*[]awscloudwatch.IWidget{
			{statusWidget},
			{
				graph("Vendor requests, vends and errors (per 5 min)", ms(s.requests, s.vends, s.clientErrors, s.serverErrors), ms(hitRatio)),
				graph("Vendor 5xx rate (%)", ms(rate("vendor 5xx %", s.serverErrors, s.requests, t.MinRequestsPer5Min)), nil),
			},
			{
				graph("Vendor errors by code (per 5 min)", ms(search(p, contract.MetricErrors, contract.DimCode, "Sum", "")), nil),
				graph("Upstream latency p99 by AWS operation (ms)", ms(search(p, contract.MetricUpstreamLatency, contract.DimOperation, "p99", "")), nil),
			},
			{
				graph("Function errors, throttles, invocations", ms(s.fnErrors, s.fnThrottles), ms(s.fnInvocations)),
				graph(fmt.Sprintf("Function duration p99 (ms; timeout %s)", p.FunctionTimeout), ms(s.fnDuration), nil),
			},
			{
				graph("HTTP API requests, 4xx, 5xx", ms(s.apiCount, s.api4xx, s.api5xx), nil),
				graph("HTTP API latency p99 (ms)", ms(s.apiLatency), nil),
			},
		}, rows...)),
	})
}

// AlarmMeteringDeadLetters fires when S3 notifications failed metering
// MeteringMaxReceives times and sit in the dead-letter queue.
const AlarmMeteringDeadLetters = "MeteringDeadLetters"

// abuseRows are the dashboard rows of abuse control: the vendor's
// refusals (user_revoked, quota_exceeded, revocation_unavailable) and the
// CLI's Revocations; with metering, the top identities by bytes added (a
// Logs Insights query over the metering function's per-identity lines)
// and the metering events, stale events and dead letters.
func (m *Monitoring) abuseRows(p MonitoringProps, graph func(string, []awscloudwatch.IMetric, []awscloudwatch.IMetric) awscloudwatch.IWidget, alarms *[]interfacesawscloudwatch.IAlarmRef) []*[]awscloudwatch.IWidget {
	a := p.Abuse
	if a == nil {
		return nil
	}
	code := func(c string) awscloudwatch.IMetric {
		return vendorMetric(contract.MetricErrors, "Sum", map[string]string{contract.DimStack: p.Name, contract.DimCode: c})
	}
	stack := map[string]string{contract.DimStack: p.Name}
	rows := []*[]awscloudwatch.IWidget{{
		graph("Abuse control: refusals (per 5 min) and revocations",
			[]awscloudwatch.IMetric{code(wire.CodeUserRevoked), code(wire.CodeQuotaExceeded), code(wire.CodeRevocationUnavailable)},
			[]awscloudwatch.IMetric{vendorMetric(contract.MetricRevocations, "Sum", stack)}),
	}}
	if a.Metering == nil {
		return rows
	}
	dlq := a.DeadLetters.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: period})
	*alarms = append(*alarms, m.alarm(p.Name, alarmSpec{AlarmMeteringDeadLetters,
		"S3 notifications failed metering and wait in the dead-letter queue: usage totals lag until they are redriven. docs/runbook.md.", dlq, 1}))
	top := awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
		Title:         jsii.String("Top identities by bytes added (metering log)"),
		LogGroupNames: jsii.Strings(*a.Metering.LogGroup().LogGroupName()),
		QueryLines: jsii.Strings(fmt.Sprintf(`filter msg = "%s"`, contract.MeteringUsageLog),
			fmt.Sprintf("stats sum(%s) as bytes, sum(%s) as objects by %s", contract.LogFieldDeltaBytes, contract.LogFieldDeltaObjects, contract.LogFieldIdentityID),
			"sort bytes desc", "limit 10"),
		View:  awscloudwatch.LogQueryVisualizationType_TABLE,
		Width: jsii.Number(12), Height: jsii.Number(6),
	})
	row := []awscloudwatch.IWidget{
		top,
		graph("Metering: events applied, stale (duplicates, out of order), dead letters",
			[]awscloudwatch.IMetric{vendorMetric(contract.MetricMeteredEvents, "Sum", stack), vendorMetric(contract.MetricStaleEvents, "Sum", stack)},
			[]awscloudwatch.IMetric{dlq}),
	}
	return append(rows, &row)
}

func ptr[T any](v T) *T { return &v }
