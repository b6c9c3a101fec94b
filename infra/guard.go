package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// GuardMetadataKey is the CloudFormation resource metadata key under which a
// resource acknowledges cfn-guard (AWS Control Tower) findings: a map from
// rule name to the reason the finding is accepted. The tests run cfn-guard
// over every template and fail on any finding not acknowledged here, and on
// any acknowledgement that no longer matches a finding.
const GuardMetadataKey = "s3vend:cfn-guard-acknowledged"

// acknowledgeGuard records on c's CloudFormation resource (c itself, or an
// L2's default child) that a cfn-guard rule's finding is accepted, and why.
func acknowledgeGuard(c constructs.IConstruct, rules map[string]string) {
	addAcknowledgements(cfnResourceOf(c), GuardMetadataKey, rules)
}

// cfnResourceOf is c itself when it is a CloudFormation resource, else its
// default child (an L2's resource).
func cfnResourceOf(c constructs.IConstruct) awscdk.CfnResource {
	if res, ok := c.(awscdk.CfnResource); ok {
		return res
	}
	return c.Node().DefaultChild().(awscdk.CfnResource)
}

// addAcknowledgements merges rules (rule -> reason) into the map under key in
// res's metadata and returns the merged map.
func addAcknowledgements(res awscdk.CfnResource, key string, rules map[string]string) map[string]any {
	acks := map[string]any{}
	if prev, ok := res.GetMetadata(jsii.String(key)).(map[string]any); ok {
		acks = prev
	}
	for rule, reason := range rules {
		acks[rule] = reason
	}
	res.AddMetadata(jsii.String(key), acks)
	return acks
}
