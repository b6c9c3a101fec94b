package infra

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract/wire"
)

// Per-client rate limiting lives in front of the HTTP API: AWS WAF cannot be
// attached to an API Gateway HTTP API, but it can to a CloudFront
// distribution, whose web ACL must be of scope CLOUDFRONT and be created in
// us-east-1. RateLimitACL is that web ACL (in a us-east-1 stack), Edge the
// distribution in front of the API (in the API's own stack).

// RateLimitACLProps configures NewRateLimitACL.
type RateLimitACLProps struct {
	PerIPLimit int           // requests per client IP per Window, config.CheckPerIPLimit; default config.DefaultRateLimit
	Window     time.Duration // one of config.RateLimitWindows; default config.DefaultRateLimitWindow
	MetricName string        // CloudWatch metric prefix; default "s3vend"
}

func (p RateLimitACLProps) withDefaults() RateLimitACLProps {
	if p.PerIPLimit == 0 {
		p.PerIPLimit = config.DefaultRateLimit
	}
	if p.Window == 0 {
		p.Window = config.DefaultRateLimitWindow
	}
	if p.MetricName == "" {
		p.MetricName = "s3vend"
	}
	return p
}

func (p RateLimitACLProps) validate() error {
	if err := config.CheckPerIPLimit(p.PerIPLimit); err != nil {
		return fmt.Errorf("RateLimitACLProps.PerIPLimit: %w", err)
	}
	if err := config.CheckRateLimitWindow(p.Window); err != nil {
		return fmt.Errorf("RateLimitACLProps.Window: %w", err)
	}
	return nil
}

// RateLimitACL is a WAFv2 web ACL of scope CLOUDFRONT that blocks a client
// IP over PerIPLimit requests per Window with the token vendor's own 429
// body. Put it in a us-east-1 stack.
type RateLimitACL struct {
	constructs.Construct
	WebACL awswafv2.CfnWebACL
	ARN    *string // token: the distribution's WebACLId
}

// AllIPv6 is every IPv6 address as AWS WAF IP-set entries: WAF "supports
// all IPv4 and IPv6 CIDR ranges except for /0" (CfnIPSetProps.Addresses).
var AllIPv6 = []string{"::/1", "8000::/1"}

// rateLimitedBody is the token vendor's own 429 body, from the API's error
// table, so a client sees the same answer from the WAF and from the vendor.
var rateLimitedBody = string(wire.ErrRateLimited.Body())

// NewRateLimitACL creates the web ACL.
func NewRateLimitACL(scope constructs.Construct, id string, props RateLimitACLProps) *RateLimitACL {
	p := props.withDefaults()
	if err := p.validate(); err != nil {
		panic(err)
	}
	if r := awscdk.Stack_Of(scope).Region(); !*awscdk.Token_IsUnresolved(r) && *r != "us-east-1" {
		panic(fmt.Errorf("NewRateLimitACL: a web ACL for CloudFront must be created in us-east-1, not %s", *r))
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	ipv6 := awswafv2.NewCfnIPSet(c, jsii.String("IPv6"), &awswafv2.CfnIPSetProps{
		Description:      jsii.String("s3vend: every IPv6 address - AWS WAF refuses /0, so two /1 halves"),
		Scope:            jsii.String("CLOUDFRONT"),
		IpAddressVersion: jsii.String("IPV6"),
		Addresses:        jsii.Strings(AllIPv6...),
	})
	acl := awswafv2.NewCfnWebACL(c, jsii.String("WebACL"), &awswafv2.CfnWebACLProps{
		Description:      jsii.String("s3vend: per-client-IP rate limit in front of the token vendor"),
		Scope:            jsii.String("CLOUDFRONT"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: &awswafv2.CfnWebACL_AllowActionProperty{}},
		VisibilityConfig: p.visibility("-acl"),
		CustomResponseBodies: map[string]*awswafv2.CfnWebACL_CustomResponseBodyProperty{
			wire.ErrRateLimited.Code: {ContentType: jsii.String("APPLICATION_JSON"), Content: jsii.String(rateLimitedBody)},
		},
		Rules: []*awswafv2.CfnWebACL_RuleProperty{
			// Through CloudFront, WAF sees the viewer's own address as the
			// request origin, so "IP" aggregates per client (no header needed).
			p.rule("PerClientIP", "-per-client-ip", 0, "IP", nil),
			// "IP" counts each address on its own and AWS WAF has no
			// network-prefix key, so an IPv6 client rotating through its /64
			// is never limited. The distribution does not offer IPv6 (Edge:
			// EnableIpv6 false); should an IPv6 request reach the edge
			// anyway, every IPv6 request shares one budget (docs/security.md,
			// "Per-client rate limit and IPv6").
			p.rule("AllIPv6", "-all-ipv6", 1, "CONSTANT", &awswafv2.CfnWebACL_StatementProperty{
				IpSetReferenceStatement: &awswafv2.CfnWebACL_IPSetReferenceStatementProperty{Arn: ipv6.AttrArn()},
			}),
		},
	})
	return &RateLimitACL{Construct: c, WebACL: acl, ARN: acl.AttrArn()}
}

func (p RateLimitACLProps) visibility(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
	return &awswafv2.CfnWebACL_VisibilityConfigProperty{
		CloudWatchMetricsEnabled: jsii.Bool(true),
		SampledRequestsEnabled:   jsii.Bool(true),
		MetricName:               jsii.String(p.MetricName + name),
	}
}

// rule blocks, with the vendor's 429, requests over PerIPLimit per Window
// for each value of the aggregation key among those scope matches.
func (p RateLimitACLProps) rule(name, metric string, priority int, key string, scope *awswafv2.CfnWebACL_StatementProperty) *awswafv2.CfnWebACL_RuleProperty {
	rbs := &awswafv2.CfnWebACL_RateBasedStatementProperty{
		Limit:               jsii.Number(float64(p.PerIPLimit)),
		EvaluationWindowSec: jsii.Number(p.Window.Seconds()),
		AggregateKeyType:    jsii.String(key),
	}
	if scope != nil { // the field is an interface: a typed nil would not be absent
		rbs.ScopeDownStatement = scope
	}
	return &awswafv2.CfnWebACL_RuleProperty{
		Name:             jsii.String(name),
		Priority:         jsii.Number(float64(priority)),
		Statement:        &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: rbs},
		Action:           p.block(),
		VisibilityConfig: p.visibility(metric),
	}
}

// block answers as the vendor does when it limits: its 429 body (by key)
// and a Retry-After of the window.
func (p RateLimitACLProps) block() *awswafv2.CfnWebACL_RuleActionProperty {
	return &awswafv2.CfnWebACL_RuleActionProperty{Block: &awswafv2.CfnWebACL_BlockActionProperty{
		CustomResponse: &awswafv2.CfnWebACL_CustomResponseProperty{
			ResponseCode:          jsii.Number(float64(wire.ErrRateLimited.Status)),
			CustomResponseBodyKey: jsii.String(wire.ErrRateLimited.Code),
			ResponseHeaders: []*awswafv2.CfnWebACL_CustomHTTPHeaderProperty{
				{Name: jsii.String("Retry-After"), Value: jsii.String(strconv.Itoa(int(p.Window.Seconds())))},
			},
		},
	}}
}

// EdgeProps configures NewEdge.
type EdgeProps struct {
	API       awsapigatewayv2.IHttpApi // the token vendor's HTTP API ($default stage)
	WebACLARN *string                  // token: RateLimitACL.ARN (us-east-1)
}

func (p EdgeProps) validate() error {
	if p.API == nil || p.WebACLARN == nil {
		return fmt.Errorf("EdgeProps: API and WebACLARN are required")
	}
	return nil
}

// Edge is a CloudFront distribution in front of the HTTP API, protected by
// the rate-limiting web ACL. It passes every request through: no caching,
// every method, all viewer headers but Host (API Gateway routes on its own
// Host), all query strings, so the API's own CORS answers are unchanged.
type Edge struct {
	constructs.Construct
	Distribution awscloudfront.Distribution
	// TokenURL is the full URL of POST /v1/token through the distribution.
	TokenURL *string
}

// NewEdge creates the distribution.
func NewEdge(scope constructs.Construct, id string, props EdgeProps) *Edge {
	if err := props.validate(); err != nil {
		panic(err)
	}
	c := constructs.NewConstruct(scope, jsii.String(id))
	// apiEndpoint is https://<id>.execute-api.<region>.<suffix>: keep the host.
	apiHost := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), props.API.ApiEndpoint(), nil))
	dist := awscloudfront.NewDistribution(c, jsii.String("Distribution"), &awscloudfront.DistributionProps{
		Comment: jsii.String("s3vend token vendor: per-client rate limit (AWS WAF) in front of the HTTP API"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin: awscloudfrontorigins.NewHttpOrigin(apiHost, &awscloudfrontorigins.HttpOriginProps{
				ProtocolPolicy:     awscloudfront.OriginProtocolPolicy_HTTPS_ONLY,
				OriginSslProtocols: &[]awscloudfront.OriginSslPolicy{awscloudfront.OriginSslPolicy_TLS_V1_2},
				ReadTimeout:        awscdk.Duration_Seconds(jsii.Number(30)),
			}),
			AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_ALL(),
			CachePolicy:          awscloudfront.CachePolicy_CACHING_DISABLED(),
			OriginRequestPolicy:  awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
			Compress:             jsii.Bool(false),
		},
		WebAclId:    props.WebACLARN,
		HttpVersion: awscloudfront.HttpVersion_HTTP2_AND_3,
		// IPv4 only: the per-IP rate limit counts each address, and an IPv6
		// client has a /64 of them. With IsIPV6Enabled false "CloudFront
		// responds to IPv6 DNS requests with the DNS response code NOERROR
		// and with no IP addresses", so viewers ask for and use IPv4
		// (CloudFront API, DistributionConfig.IsIPV6Enabled).
		EnableIpv6: jsii.Bool(false),
	})
	e := &Edge{Construct: c, Distribution: dist}
	e.TokenURL = jsii.String("https://" + *dist.DistributionDomainName() + wire.RouteToken)

	acknowledge(e.acknowledgements())
	return e
}

// acknowledgements are the distribution's accepted findings.
func (e *Edge) acknowledgements() []ack {
	dist := e.Distribution
	return []ack{
		guardAck(dist, "cloudfront_access_logs_enabled_check", "Every request that passes reaches the HTTP API's access log (one JSON line per request); WAF keeps sampled requests and metrics of the blocked ones. Standard logging would need an ACL-enabled bucket."),
		guardAck(dist, "cloudfront_custom_ssl_certificate_check", "The distribution serves the default *.cloudfront.net name; a custom domain needs a domain and an ACM certificate in us-east-1, which s3vend does not own."),
		guardAck(dist, "cloudfront_sni_enabled_check", "SNI applies to a custom certificate; the default *.cloudfront.net certificate is served to every client already."),
		guardAck(dist, "cloudfront_security_policy_check", "CloudFront does not let the minimum TLS version be set with the default *.cloudfront.net certificate; clients that need TLSv1.2_2021 put a custom domain in front."),
		guardAck(dist, "cloudfront_default_root_object_configured_check", "The origin is an API, not a website: \"/\" is answered by the token vendor's own JSON 404, there is no root object to serve."),
		guardAck(dist, "cloudfront_origin_failover_enabled_check", "The one origin is the regional HTTP API of this stack; there is no second API to fail over to, and a copy in another region would be a second identity pool."),
		nagAck(dist, "AwsSolutions-CFR1", "The token vendor serves clients wherever they are (the rate limit is per client IP, not per "+
			"country); a geo restriction would be a product decision, not a security default.").withChildren(),
		nagAck(dist, "AwsSolutions-CFR3", "Every request that passes reaches the HTTP API's access log (one JSON line per request); WAF "+
			"keeps sampled requests and CloudWatch metrics for the blocked ones. Standard logging would need an ACL-enabled bucket.").withChildren(),
		nagAck(dist, "AwsSolutions-CFR4", "The distribution uses the default *.cloudfront.net certificate, on which CloudFront does not "+
			"let the minimum TLS version be set; clients that need TLSv1.2_2021 put a custom domain in front.").withChildren(),
	}
}
