package test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/s3vend/s3vend/config"
)

// Issue 16, item 10: AWS WAF's rate-based rule counts each source address
// on its own ("If the aggregation criteria is just the IP address, then
// each individual address is an aggregation instance", CfnWebACL
// RateBasedStatementProperty), and none of its aggregation keys is a
// network prefix (awscdk v2.270.0 RateBasedStatementCustomKeyProperty: Asn,
// Cookie, ForwardedIp, Header, HttpMethod, Ip, Ja3/Ja4Fingerprint,
// LabelNamespace, QueryArgument, QueryString, UriPath), so an IPv6 client
// rotating through the 2^64 addresses of its /64 would never be limited.
// The distribution answers IPv4 only, and any IPv6 request that reaches the
// web ACL anyway shares one budget with every other IPv6 request.
func TestEdgeIPv6CannotRotateAroundTheLimit(t *testing.T) {
	env := envConfig(t, "edge")
	acl := stackTemplate(t, config.EdgeACLStackName("edge"))
	tpl := stackTemplate(t, config.StackName("edge"))

	_, d := only(t, tpl, "AWS::CloudFront::Distribution")
	if v, ok := props(d)["DistributionConfig"].(map[string]any)["IPV6Enabled"]; !ok || v != false {
		t.Errorf("distribution IPV6Enabled = %v (set: %v), want false: CloudFront then answers AAAA queries with no address", v, ok)
	}

	setID, set := only(t, acl, "AWS::WAFv2::IPSet")
	sp := props(set)
	if sp["Scope"] != "CLOUDFRONT" || sp["IPAddressVersion"] != "IPV6" {
		t.Fatalf("IP set = %s, want a CLOUDFRONT IPV6 set", mustJSON(sp))
	}
	var prefixes []netip.Prefix
	for _, a := range strs(sp["Addresses"]) {
		p, err := netip.ParsePrefix(a)
		if err != nil || p.Bits() == 0 {
			t.Fatalf("address %q: %v (AWS WAF refuses /0)", a, err)
		}
		prefixes = append(prefixes, p)
	}
	for _, addr := range []string{"::", "::1", "2001:db8::1", "2400:cb00::42", "7fff:ffff::", "8000::", "fe80::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"} {
		a := netip.MustParseAddr(addr)
		if !slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(a) }) {
			t.Errorf("the IPv6 set %v does not cover %s", prefixes, addr)
		}
	}

	var found bool
	rules := list(t, only2(t, acl, "AWS::WAFv2::WebACL"), "Properties", "Rules")
	for i := range rules {
		rule := obj(t, rules, i)
		rbs, _ := obj(t, rule, "Statement")["RateBasedStatement"].(map[string]any)
		sd, _ := rbs["ScopeDownStatement"].(map[string]any)
		ref, _ := sd["IPSetReferenceStatement"].(map[string]any)
		if ref == nil || mustJSON(ref["Arn"]) != `{"Fn::GetAtt":["`+setID+`","Arn"]}` {
			continue
		}
		found = true
		if rbs["AggregateKeyType"] != "CONSTANT" || rbs["Limit"] != float64(env.Edge.PerIPLimit) || rbs["EvaluationWindowSec"] != env.Edge.Window.Seconds() {
			t.Errorf("IPv6 rule = %s, want one CONSTANT budget of %d per %s", mustJSON(rbs), env.Edge.PerIPLimit, env.Edge.Window)
		}
		if a := mustJSON(rule["Action"]); a != mustJSON(ruleNamed(t, acl, "PerClientIP")["Action"]) {
			t.Errorf("IPv6 rule action %s differs from the per-IP rule's", a)
		}
	}
	if !found {
		t.Error("no rate-based rule scoped down to the IPv6 set")
	}
}

// only2 is only without the logical id.
func only2(t *testing.T, tpl map[string]any, typ string) map[string]any {
	t.Helper()
	_, r := only(t, tpl, typ)
	return r
}

// ruleNamed is the web ACL rule of that name.
func ruleNamed(t *testing.T, acl map[string]any, name string) map[string]any {
	t.Helper()
	rules := list(t, only2(t, acl, "AWS::WAFv2::WebACL"), "Properties", "Rules")
	for i := range rules {
		if rule := obj(t, rules, i); rule["Name"] == name {
			return rule
		}
	}
	t.Fatalf("no web ACL rule %s", name)
	return nil
}
