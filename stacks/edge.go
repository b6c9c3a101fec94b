package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/infra"
)

// EdgeACLStack holds an environment's CloudFront web ACL in us-east-1; the
// environment's stack reads its ARN (Fn::GetStackOutput) and depends on it.
type EdgeACLStack struct {
	awscdk.Stack
	ACL *infra.RateLimitACL
}

// NewEdgeACLStack composes the web ACL of one environment.
func NewEdgeACLStack(scope constructs.Construct, e config.Environment) *EdgeACLStack {
	stack := awscdk.NewStack(scope, jsii.String(config.EdgeACLStackName(e.Name)), &awscdk.StackProps{
		StackName:   jsii.String(config.EdgeACLStackName(e.Name)),
		Description: jsii.String("s3vend " + e.Name + ": AWS WAF web ACL (per-client-IP rate limit) of the token vendor's CloudFront distribution"),
		Env:         &awscdk.Environment{Account: strOrNil(e.Account), Region: jsii.String(config.EdgeACLRegion)},
		// Protected with its environment (see NewS3VendStack).
		TerminationProtection: jsii.Bool(!e.Disposable),
	})
	return &EdgeACLStack{Stack: stack, ACL: infra.NewRateLimitACL(stack, "RateLimit", infra.RateLimitACLProps{
		PerIPLimit: e.Edge.PerIPLimit,
		Window:     e.Edge.Window,
		MetricName: "s3vend-" + e.Name,
	})}
}
