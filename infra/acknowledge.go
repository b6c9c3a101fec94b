package infra

import (
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Every finding of the three template checkers that s3vend accepts is
// acknowledged on its resource, with a reason. Each construct keeps its
// acknowledgements in one table (a method named acknowledgements, after its
// builder) and applies it once, at the end of NewX, so the builder reads as
// the resources it creates and the table as the reasons:
//
//   - cdk-nag (AwsSolutions checks, run as an aspect at synth): a
//     NagSuppressions resource suppression (metadata cdk_nag);
//   - cfn-guard (AWS Control Tower rules, run by the tests): GuardMetadataKey;
//   - cfn-lint (run by the tests): LintMetadataKey, plus cfn-lint's own
//     ignore_checks so the linter skips exactly the acknowledged rules.
//
// The tests fail on a finding without an acknowledgement and on an
// acknowledgement no finding needs (test/compliance_test.go,
// test/cfnlint_test.go; cdk-nag reports unused suppressions as synth
// annotations).

// GuardMetadataKey is the CloudFormation resource metadata key under which a
// resource acknowledges cfn-guard (AWS Control Tower) findings: a map from
// rule name to the reason the finding is accepted. The tests run cfn-guard
// over every template and fail on any finding not acknowledged here, and on
// any acknowledgement that no longer matches a finding.
const GuardMetadataKey = "s3vend:cfn-guard-acknowledged"

// LintMetadataKey is the resource metadata key under which a resource
// acknowledges a cfn-lint (AWS CloudFormation Linter) finding: rule id ->
// the reason it is accepted. A lint acknowledgement also writes cfn-lint's
// own per-resource setting (Metadata "cfn-lint": {"config":
// {"ignore_checks": [...]}}) from it, so the linter skips exactly the
// acknowledged rules. The tests run cfn-lint over every template and fail on
// any finding, and, with the ignore_checks removed, on an acknowledgement no
// finding needs.
const LintMetadataKey = "s3vend:cfn-lint-acknowledged"

// checker is the tool whose finding a row acknowledges.
type checker int

const (
	byNag checker = iota
	byGuard
	byLint
)

// ack is one row of a construct's acknowledgement table: rule's finding on
// the resource on (a CloudFormation resource, or an L2 whose default child
// is one) is accepted, for reason.
type ack struct {
	by     checker
	on     constructs.IConstruct
	rule   string
	reason string
	// cdk-nag only: the finding's applies-to entries, and whether the
	// suppression covers on's children too (applyToChildren).
	appliesTo []any
	children  bool
}

// nagAck acknowledges a cdk-nag AwsSolutions rule.
func nagAck(on constructs.IConstruct, rule, reason string) ack {
	return ack{by: byNag, on: on, rule: rule, reason: reason}
}

// guardAck acknowledges a cfn-guard (Control Tower) rule.
func guardAck(on constructs.IConstruct, rule, reason string) ack {
	return ack{by: byGuard, on: on, rule: rule, reason: reason}
}

// lintAck acknowledges a cfn-lint rule.
func lintAck(on constructs.IConstruct, rule, reason string) ack {
	return ack{by: byLint, on: on, rule: rule, reason: reason}
}

// withChildren makes a cdk-nag row cover every resource under on as well.
func (a ack) withChildren() ack { a.children = true; return a }

// only narrows a cdk-nag row to the findings it applies to (a string, or
// regexAppliesTo).
func (a ack) only(appliesTo ...any) ack { a.appliesTo = appliesTo; return a }

// acknowledge applies a construct's table: per resource, its cdk-nag rows in
// table order, and its cfn-guard and cfn-lint rows each as one metadata map.
func acknowledge(rows []ack) {
	type key struct {
		by       checker
		path     string
		children bool
	}
	var order []key
	groups := map[key][]ack{}
	for _, r := range rows {
		k := key{r.by, *r.on.Node().Path(), r.children}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range order {
		g := groups[k]
		switch k.by {
		case byNag:
			suppress(g[0].on, g, k.children)
		case byGuard:
			addAcknowledgements(cfnResourceOf(g[0].on), GuardMetadataKey, reasons(g))
		case byLint:
			res := cfnResourceOf(g[0].on)
			ids := slices.Sorted(maps.Keys(addAcknowledgements(res, LintMetadataKey, reasons(g))))
			res.AddMetadata(jsii.String("cfn-lint"), map[string]any{"config": map[string]any{"ignore_checks": ids}})
		}
	}
}

// suppress adds the cdk-nag rows as on's resource suppressions, in order.
func suppress(on constructs.IConstruct, rows []ack, children bool) {
	s := make([]*cdknag.NagPackSuppression, len(rows))
	for i, r := range rows {
		s[i] = &cdknag.NagPackSuppression{Id: jsii.String(r.rule), Reason: jsii.String(r.reason)}
		if r.appliesTo != nil {
			applies := r.appliesTo
			s[i].AppliesTo = &applies
		}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(on, &s, jsii.Bool(children))
}

func reasons(rows []ack) map[string]string {
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r.rule] = r.reason
	}
	return m
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
