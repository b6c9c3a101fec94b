package config

import (
	"fmt"
	"slices"
	"strings"
)

// StackName is the CloudFormation stack name of an environment.
func StackName(env string) string { return "S3Vend-" + env }

// EdgeACLStackName is the CloudFormation stack name of an environment's
// rate-limiting web ACL (only with "edge": {"enabled": true}).
func EdgeACLStackName(env string) string { return StackName(env) + "-EdgeACL" }

// EdgeACLRegion is where a web ACL for CloudFront (scope CLOUDFRONT) must be
// created, and so where an environment's EdgeACL stack goes.
const EdgeACLRegion = "us-east-1"

// SelectionContextKey is the CDK context key that limits synthesis to some
// stacks: comma-separated stack names, like `cdk synth -c
// s3vend:stacks=S3Vend-dev`. Absent or empty: every stack. The Makefile's
// STACK= sets it, so a one-stack diff or deploy synthesizes one environment.
const SelectionContextKey = "s3vend:stacks"

// StackNames lists every stack the configuration synthesizes, in a stable
// order: each environment's stack, followed by its edge ACL stack when the
// environment has one.
func (c Config) StackNames() []string {
	var out []string
	for _, n := range c.Names() {
		out = append(out, StackName(n))
		if c.Environments[n].Edge.Enabled {
			out = append(out, EdgeACLStackName(n))
		}
	}
	if c.CICD != nil {
		out = append(out, CICDStackName)
	}
	return out
}

// Select returns the configuration limited to the stacks named by the
// SelectionContextKey value sel (a comma-separated string, or a JSON list
// from cdk.json; nil or "" keeps every stack). A stack brings its whole
// environment: S3Vend-<env> needs S3Vend-<env>-EdgeACL, whose output it reads,
// and the ACL stack is nothing without it. S3Vend-cicd comes alone. An
// unknown name is an error that lists the valid ones.
func (c Config) Select(sel any) (Config, error) {
	names, err := selectionNames(sel)
	if err != nil || len(names) == 0 {
		return c, err
	}
	owner := map[string]string{} // stack name -> environment
	for _, n := range c.Names() {
		owner[StackName(n)] = n
		if c.Environments[n].Edge.Enabled {
			owner[EdgeACLStackName(n)] = n
		}
	}
	out := Config{Environments: map[string]Environment{}}
	var unknown []string
	for _, s := range names {
		if s == CICDStackName && c.CICD != nil {
			out.CICD = c.CICD // carries what it needs of the environments it deploys
			continue
		}
		env, ok := owner[s]
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", s))
			continue
		}
		out.Environments[env] = c.Environments[env]
	}
	if len(unknown) > 0 {
		return Config{}, fmt.Errorf("%s: no stack %s in this app; use one of %s (each is an environment of %s.environments in cdk.json)",
			SelectionContextKey, strings.Join(unknown, ", "), strings.Join(c.StackNames(), ", "), ContextKey)
	}
	return out, nil
}

// selectionNames reads the SelectionContextKey value: a string from the
// command line (the CDK CLI passes -c values as strings) or a list of
// strings from cdk.json.
func selectionNames(sel any) ([]string, error) {
	var parts []string
	switch v := sel.(type) {
	case nil:
		return nil, nil
	case string:
		parts = strings.Split(v, ",")
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%s: expected stack names (strings), got %v; write -c %s=S3Vend-dev,S3Vend-prod", SelectionContextKey, e, SelectionContextKey)
			}
			parts = append(parts, s)
		}
	case []string:
		parts = v
	default:
		return nil, fmt.Errorf("%s: expected comma-separated stack names, got %v; write -c %s=S3Vend-dev", SelectionContextKey, sel, SelectionContextKey)
	}
	var names []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(names, p) {
			names = append(names, p)
		}
	}
	return names, nil
}
