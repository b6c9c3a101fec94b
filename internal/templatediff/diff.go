// Package templatediff compares two synthesized CloudFormation templates of a
// stack and summarizes what a reviewer must read first: resources added,
// removed, modified and replaced, Lambda code changes, and every IAM or
// resource-policy statement added or removed. The raw `cdk diff` stays the
// detailed view; this is the summary above it.
package templatediff

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Template is a parsed CloudFormation template.
type Template map[string]any

// ParseTemplate parses a template's JSON.
func ParseTemplate(b []byte) (Template, error) {
	var t Template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	return t, nil
}

type resource struct {
	Type       string
	Properties map[string]any
	raw        map[string]any
}

func (t Template) resources() map[string]resource {
	out := map[string]resource{}
	rs, _ := t["Resources"].(map[string]any)
	for id, r := range rs {
		m, _ := r.(map[string]any)
		typ, _ := m["Type"].(string)
		if typ == "AWS::CDK::Metadata" {
			continue // CDK's version analytics, not infrastructure
		}
		props, _ := m["Properties"].(map[string]any)
		out[id] = resource{Type: typ, Properties: props, raw: m}
	}
	return out
}

// Status of a stack between base and head.
type Status string

const (
	Unchanged Status = "unchanged"
	Changed   Status = "changed"
	New       Status = "new"
	Removed   Status = "removed"
)

// Resource names one resource of a stack.
type Resource struct {
	ID, Type string
	Detail   string // modified: the changed top-level keys; replaced: "replace" or "may be replaced"
}

// PolicyChange lists the statements of one policy document that were added
// or removed.
type PolicyChange struct {
	Resource, Type, Label string
	Target                string // what the document is attached to (head side, else base)
	Added, Removed        []Statement
}

// StackDiff is the reviewer's summary of one stack.
type StackDiff struct {
	Stack                    string
	Status                   Status
	Added, Removed, Modified []Resource
	Replaced                 []Resource
	CodeChanged              []Resource // Lambda functions whose code asset changed
	Policies                 []PolicyChange
	Sections                 []string // other template sections that changed, e.g. "Outputs: +ApiUrl"
}

// Compare summarizes the change of one stack from base to head; a nil
// template means the stack does not exist on that side. impacts are the
// replacement impacts the CDK CLI printed for the stack (see ParseImpacts).
func Compare(stack string, base, head Template, impacts map[string]string) StackDiff {
	d := StackDiff{Stack: stack}
	switch {
	case base == nil && head == nil:
		return d
	case base == nil:
		d.Status = New
		base = Template{}
	case head == nil:
		d.Status = Removed
		head = Template{}
	}
	br, hr := base.resources(), head.resources()
	for _, id := range slices.Sorted(maps.Keys(hr)) {
		r := hr[id]
		old, ok := br[id]
		switch {
		case !ok:
			d.Added = append(d.Added, Resource{ID: id, Type: r.Type})
		case old.Type != r.Type:
			d.Removed = append(d.Removed, Resource{ID: id, Type: old.Type})
			d.Added = append(d.Added, Resource{ID: id, Type: r.Type})
		default:
			if keys := changedKeys(old, r); len(keys) > 0 {
				d.Modified = append(d.Modified, Resource{ID: id, Type: r.Type, Detail: strings.Join(keys, ", ")})
			}
			if r.Type == "AWS::Lambda::Function" && !reflect.DeepEqual(old.Properties["Code"], r.Properties["Code"]) {
				d.CodeChanged = append(d.CodeChanged, Resource{ID: id, Type: r.Type})
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(br)) {
		if _, ok := hr[id]; !ok {
			d.Removed = append(d.Removed, Resource{ID: id, Type: br[id].Type})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(impacts)) {
		typ := hr[id].Type
		if typ == "" {
			typ = br[id].Type
		}
		d.Replaced = append(d.Replaced, Resource{ID: id, Type: typ, Detail: impacts[id]})
	}
	d.Policies = comparePolicies(br, hr)
	d.Sections = compareSections(base, head)
	if d.Status == "" {
		d.Status = Unchanged
		if len(d.Added)+len(d.Removed)+len(d.Modified)+len(d.Replaced)+len(d.Sections) > 0 {
			d.Status = Changed
		}
	}
	return d
}

// noisyMetadata are resource metadata keys that change with paths and asset
// hashes but not with what is deployed; other metadata (cdk-nag and
// cfn-guard acknowledgements) is a reviewable change.
func noisyMetadata(k string) bool {
	return k == "aws:cdk:path" || strings.HasPrefix(k, "aws:asset:")
}

// changedKeys names what differs between two versions of a resource:
// top-level properties as "Properties.X", other attributes by name.
func changedKeys(a, b resource) []string {
	var keys []string
	for _, k := range UnionKeys(a.Properties, b.Properties) {
		if !reflect.DeepEqual(a.Properties[k], b.Properties[k]) {
			keys = append(keys, k)
		}
	}
	for _, k := range UnionKeys(a.raw, b.raw) {
		switch k {
		case "Type", "Properties":
			continue
		case "Metadata":
			if !reflect.DeepEqual(metadata(a.raw[k]), metadata(b.raw[k])) {
				keys = append(keys, "Metadata")
			}
		default:
			if !reflect.DeepEqual(a.raw[k], b.raw[k]) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

func metadata(v any) map[string]any {
	m, _ := v.(map[string]any)
	out := map[string]any{}
	for k, x := range m {
		if !noisyMetadata(k) {
			out[k] = x
		}
	}
	return out
}

// compareSections reports changes outside Resources: outputs, parameters,
// conditions, mappings, rules and the description.
func compareSections(base, head Template) []string {
	var out []string
	for _, sec := range []string{"Description", "Parameters", "Conditions", "Mappings", "Rules", "Outputs"} {
		a, b := base[sec], head[sec]
		if reflect.DeepEqual(a, b) {
			continue
		}
		am, aok := a.(map[string]any)
		bm, bok := b.(map[string]any)
		if (!aok && a != nil) || (!bok && b != nil) {
			out = append(out, sec+" changed")
			continue
		}
		var parts []string
		for _, k := range UnionKeys(am, bm) {
			x, inA := am[k]
			y, inB := bm[k]
			switch {
			case !inA:
				parts = append(parts, "+"+k)
			case !inB:
				parts = append(parts, "-"+k)
			case !reflect.DeepEqual(x, y):
				parts = append(parts, "~"+k)
			}
		}
		out = append(out, sec+": "+strings.Join(parts, " "))
	}
	return out
}

func comparePolicies(br, hr map[string]resource) []PolicyChange {
	type key struct{ id, label string }
	docs := map[key][2]*PolicyDoc{}
	var order []key
	collect := func(rs map[string]resource, side int) {
		for _, id := range slices.Sorted(maps.Keys(rs)) {
			for _, d := range policyDocs(id, rs[id]) {
				k := key{id, d.Label}
				pair, seen := docs[k]
				if !seen {
					order = append(order, k)
				}
				d := d
				pair[side] = &d
				docs[k] = pair
			}
		}
	}
	collect(br, 0)
	collect(hr, 1)
	sort.Slice(order, func(i, j int) bool {
		if order[i].id != order[j].id {
			return order[i].id < order[j].id
		}
		return order[i].label < order[j].label
	})
	var out []PolicyChange
	for _, k := range order {
		pair := docs[k]
		var old, cur []Statement
		pc := PolicyChange{Resource: k.id, Label: k.label}
		if pair[0] != nil {
			old, pc.Type, pc.Target = pair[0].Statements, pair[0].Type, pair[0].Target
		}
		if pair[1] != nil {
			cur, pc.Type, pc.Target = pair[1].Statements, pair[1].Type, pair[1].Target
		}
		pc.Added, pc.Removed = statementDelta(old, cur), statementDelta(cur, old)
		if len(pc.Added)+len(pc.Removed) > 0 {
			out = append(out, pc)
		}
	}
	return out
}

// statementDelta returns the statements of b that a does not have (as a
// multiset: a statement that appears twice in b and once in a is listed once).
func statementDelta(a, b []Statement) []Statement {
	have := map[string]int{}
	for _, s := range a {
		have[s.Key()]++
	}
	var out []Statement
	for _, s := range b {
		if have[s.Key()] > 0 {
			have[s.Key()]--
			continue
		}
		out = append(out, s)
	}
	return out
}

// impactRe matches a resource line of the CDK CLI's diff whose change
// replaces the resource, e.g.
//
//	[~] AWS::S3::Bucket Storage/Bucket StorageBucket5CB7C8EA replace
//	[~] AWS::Lambda::Function Fn Fn1234 may be replaced
//
// The construct path is absent when the resource has no aws:cdk:path.
var impactRe = regexp.MustCompile(`^\[~\] \S+ (?:.* )?(\S+) (replace|may be replaced)$`)

// ParseImpacts reads which resources the CDK CLI's `cdk diff` output marks as
// replaced. The CLI decides from the CloudFormation resource specification it
// bundles (per property: "Update requires: Replacement"), which this package
// does not duplicate. The words come from @aws-cdk/cloudformation-diff's
// formatter, bundled in node_modules/aws-cdk/lib/index.js (aws-cdk 2.1148.1,
// formatImpact): MAY_REPLACE -> "may be replaced", WILL_REPLACE -> "replace";
// a property line adds "(requires replacement)". Its tests pin BucketName as
// an immutable property:
// https://github.com/aws/aws-cdk/blob/main/packages/@aws-cdk/cloudformation-diff/test/template-and-changeset-diff-merger.test.ts
// The CLI's library entry is not exported (package.json "exports" lists only
// bin/cdk), so its text output is the interface; testdata holds a captured
// sample, and the CLI is pinned in package-lock.json.
func ParseImpacts(cliOutput string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(cliOutput))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if m := impactRe.FindStringSubmatch(strings.TrimRight(sc.Text(), " ")); m != nil {
			out[m[1]] = m[2]
		}
	}
	return out
}

// UnionKeys is the sorted union of the keys of a and b.
func UnionKeys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Changed reports whether a stack differs between base and head.
func (d StackDiff) Changed() bool { return d.Status != Unchanged }

func (r Resource) String() string {
	s := fmt.Sprintf("`%s` (%s)", r.ID, r.Type)
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return s
}
