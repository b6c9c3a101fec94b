// Package diagram draws the architecture of the synthesized s3vend app as a
// Graphviz DOT graph: every resource of the given CloudFormation templates,
// grouped per stack, and an edge wherever one resource names another (Ref,
// Fn::GetAtt, Fn::Sub, Fn::GetStackOutput, DependsOn), labelled with where
// the reference sits: a policy statement's Sid (or its actions), a role's
// trust policy, a role attachment's role, an environment variable.
//
// Stacks of the same kind (S3Vend-dev, S3Vend-prod, ...) are drawn once, as
// the union of their resources; a resource that only some environments have
// is marked with them, so the picture shows one graph and the deltas instead
// of one copy per environment. Unknown resource types are drawn like any
// other (their type is the label), so new resources need no change here.
// The output is deterministic: nodes, edges and labels are sorted.
package diagram

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Template is one synthesized stack.
type Template struct {
	Stack string         // stack name, e.g. S3Vend-dev or S3Vend-edge-EdgeACL
	Body  map[string]any // the CloudFormation template
}

// LoadDir reads every *.template.json in dir (cdk.out or the golden
// snapshots); the stack name is the file name without .template.json.
func LoadDir(dir string) ([]Template, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("diagram: no *.template.json in %s", dir)
	}
	sort.Strings(files)
	var out []Template
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			return nil, fmt.Errorf("diagram: %s: %w", f, err)
		}
		out = append(out, Template{Stack: strings.TrimSuffix(filepath.Base(f), ".template.json"), Body: body})
	}
	return out, nil
}

// Group names the kind of a stack. The environments' main stacks
// (S3Vend-<env>: the ones with an identity pool) share one group; a
// companion stack of an environment (S3Vend-<env>-EdgeACL) is grouped by
// its suffix; any other stack (e.g. a CI/CD stack) is its own group. It
// returns the group and the environment ("" for a stack of its own).
func Group(stack string, body map[string]any) (group, env string) {
	rest, ok := strings.CutPrefix(stack, "S3Vend-")
	if !ok {
		return stack, ""
	}
	if i := strings.Index(rest, "-"); i > 0 && isCompanion(rest[i+1:]) {
		return "S3Vend-<env>-" + rest[i+1:], rest[:i]
	}
	if !hasType(body, "AWS::Cognito::IdentityPool") {
		return stack, ""
	}
	return "S3Vend-<env>", rest
}

func hasType(body map[string]any, typ string) bool {
	res, _ := body["Resources"].(map[string]any)
	for _, r := range res {
		if t, _ := r.(map[string]any)["Type"].(string); t == typ {
			return true
		}
	}
	return false
}

// isCompanion: a companion stack's suffix is a construct id (upper-case
// first letter); environment names are lower-case (prod-cn).
func isCompanion(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

type node struct {
	group, id, typ string
	envs           map[string]bool
}

type edgeKey struct{ from, to string }

// Graph is the union of the templates' resources and references.
type Graph struct {
	nodes      map[string]*node // key group/id
	edges      map[edgeKey]map[string]bool
	groupEnvs  map[string]map[string]bool
	stackGroup map[string]string // stack name -> group
}

// Build merges the templates into one graph.
func Build(ts []Template) *Graph {
	g := &Graph{nodes: map[string]*node{}, edges: map[edgeKey]map[string]bool{}, groupEnvs: map[string]map[string]bool{}, stackGroup: map[string]string{}}
	// First every stack's resources, so that a cross-stack reference
	// (Fn::GetStackOutput) finds its target whatever the order.
	for _, t := range ts {
		group, env := Group(t.Stack, t.Body)
		g.stackGroup[t.Stack] = group
		if g.groupEnvs[group] == nil {
			g.groupEnvs[group] = map[string]bool{}
		}
		g.groupEnvs[group][env] = true
		res, _ := t.Body["Resources"].(map[string]any)
		for id, r := range res {
			key := group + "/" + id
			n := g.nodes[key]
			if n == nil {
				typ, _ := r.(map[string]any)["Type"].(string)
				n = &node{group: group, id: id, typ: typ, envs: map[string]bool{}}
				g.nodes[key] = n
			}
			n.envs[env] = true
		}
	}
	for _, t := range ts {
		group := g.stackGroup[t.Stack]
		res, _ := t.Body["Resources"].(map[string]any)
		for id, r := range res {
			rm, _ := r.(map[string]any)
			w := walker{g: g, group: group, from: group + "/" + id, resources: res}
			for _, d := range dependsOn(rm["DependsOn"]) {
				w.add(d, "depends on")
			}
			props, _ := rm["Properties"].(map[string]any)
			typ, _ := rm["Type"].(string)
			for _, k := range slices.Sorted(maps.Keys(props)) {
				w.walk(props[k], topLabel(typ, k))
			}
		}
	}
	return g
}

func dependsOn(v any) []string {
	switch d := v.(type) {
	case string:
		return []string{d}
	case []any:
		var out []string
		for _, x := range d {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// topLabel names a reference by the property it sits in.
func topLabel(typ, prop string) string {
	switch prop {
	case "AssumeRolePolicyDocument":
		return "trusts"
	case "Roles":
		if typ == "AWS::IAM::Policy" {
			return "attached to"
		}
		return "roles"
	case "Environment":
		return "env"
	}
	return prop
}

type walker struct {
	g         *Graph
	group     string
	from      string
	resources map[string]any
}

var subRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}`)

func (w walker) walk(v any, label string) {
	switch x := v.(type) {
	case map[string]any:
		if st, ok := x["Statement"]; ok {
			w.statements(st, label)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			val := x[k]
			switch k {
			case "Ref":
				if s, ok := val.(string); ok {
					w.add(s, label)
				}
				continue
			case "Fn::GetAtt":
				if a, ok := val.([]any); ok && len(a) > 0 {
					if s, ok := a[0].(string); ok {
						w.add(s, label)
					}
				} else if s, ok := val.(string); ok {
					w.add(strings.SplitN(s, ".", 2)[0], label)
				}
				continue
			case "Fn::Sub":
				str := val
				if a, ok := val.([]any); ok && len(a) > 0 {
					str = a[0]
					if len(a) > 1 {
						w.walk(a[1], label)
					}
				}
				if s, ok := str.(string); ok {
					for _, m := range subRef.FindAllStringSubmatch(s, -1) {
						w.add(m[1], label)
					}
				}
				continue
			case "Fn::GetStackOutput":
				w.stackOutput(val, label)
				continue
			}
			w.walk(val, label)
		}
	case []any:
		for _, e := range x {
			w.walk(e, label)
		}
	}
}

// statements labels each policy statement's references with its Sid, or
// its actions when it has none.
func (w walker) statements(v any, label string) {
	sts, ok := v.([]any)
	if !ok {
		sts = []any{v}
	}
	for _, s := range sts {
		st, _ := s.(map[string]any)
		l := label
		if label != "trusts" {
			if sid, _ := st["Sid"].(string); sid != "" {
				l = sid
			} else {
				l = actions(st["Action"])
			}
		}
		for _, k := range slices.Sorted(maps.Keys(st)) {
			if k != "Sid" && k != "Action" {
				w.walk(st[k], l)
			}
		}
	}
}

func actions(v any) string {
	var as []string
	switch a := v.(type) {
	case string:
		as = []string{a}
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				as = append(as, s)
			}
		}
	}
	slices.Sort(as)
	if len(as) > 2 {
		return strings.Join(as[:2], ", ") + fmt.Sprintf(" +%d", len(as)-2)
	}
	return strings.Join(as, ", ")
}

// stackOutput follows Fn::GetStackOutput to the resource behind the other
// stack's output (a cross-region reference, e.g. the us-east-1 web ACL).
func (w walker) stackOutput(v any, label string) {
	m, _ := v.(map[string]any)
	stack, _ := m["StackName"].(string)
	output, _ := m["OutputName"].(string)
	group, ok := w.g.stackGroup[stack]
	if !ok {
		return // a stack not drawn
	}
	// The output's value is a GetAtt/Ref in the other template; its name
	// (PublishOutputFnGetAtt<LogicalId><Attr><hash>) is not parsed: the
	// edge goes to every resource of that group the output name mentions.
	for key, n := range w.g.nodes {
		if n.group == group && strings.Contains(output, n.id) {
			w.g.addEdge(w.from, key, label)
		}
	}
}

func (w walker) add(id, label string) {
	if _, ok := w.resources[id]; !ok {
		return // a parameter or pseudo parameter
	}
	w.g.addEdge(w.from, w.group+"/"+id, label)
}

func (g *Graph) addEdge(from, to, label string) {
	if from == to {
		return
	}
	k := edgeKey{from, to}
	if g.edges[k] == nil {
		g.edges[k] = map[string]bool{}
	}
	g.edges[k][label] = true
}

// logicalHash is the 8-hex-digit suffix CDK adds to logical ids.
var logicalHash = regexp.MustCompile(`[0-9A-F]{8}$`)

// DOT renders the graph.
func (g *Graph) DOT() []byte {
	var b bytes.Buffer
	b.WriteString("// Generated by `make diagram` from test/testdata/snapshots (internal/diagram); do not edit.\n")
	b.WriteString("digraph s3vend {\n")
	b.WriteString("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.25, ranksep=0.9, newrank=true, labelloc=t, label=\"s3vend: resources of the synthesized stacks and how they reference each other\"];\n")
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, fillcolor=\"#f2f2f2\"];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\"];\n")
	groups := slices.Sorted(maps.Keys(g.groupEnvs))
	for i, group := range groups {
		envs := slices.Sorted(maps.Keys(g.groupEnvs[group]))
		title := group
		if len(envs) > 1 || envs[0] != "" {
			title += "  (" + strings.Join(envs, ", ") + ")"
		}
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=%q; style=rounded; color=\"#888888\";\n", i, title)
		for _, key := range slices.Sorted(maps.Keys(g.nodes)) {
			n := g.nodes[key]
			if n.group != group {
				continue
			}
			fmt.Fprintf(&b, "    %q [label=%q, fillcolor=%q];\n", key, n.label(envs), color(n.typ))
		}
		b.WriteString("  }\n")
	}
	keys := make([]edgeKey, 0, len(g.edges))
	for k := range g.edges {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].from != keys[j].from {
			return keys[i].from < keys[j].from
		}
		return keys[i].to < keys[j].to
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "  %q -> %q [label=%q];\n", k.from, k.to, strings.Join(slices.Sorted(maps.Keys(g.edges[k])), "\n"))
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func (n *node) label(groupEnvs []string) string {
	name := logicalHash.ReplaceAllString(n.id, "")
	l := name + "\n" + strings.TrimPrefix(n.typ, "AWS::")
	if len(n.envs) < len(groupEnvs) {
		var in, out []string
		for _, e := range groupEnvs {
			if n.envs[e] {
				in = append(in, e)
			} else {
				out = append(out, e)
			}
		}
		if len(in) <= len(out) {
			l += "\n[only " + strings.Join(in, ", ") + "]"
		} else {
			l += "\n[not in " + strings.Join(out, ", ") + "]"
		}
	}
	return l
}

// color by service, so the eye finds storage, identity, compute and edge.
func color(typ string) string {
	parts := strings.Split(typ, "::")
	svc := ""
	if len(parts) > 1 {
		svc = parts[1]
	}
	switch svc {
	case "S3":
		return "#d5f5e3"
	case "Cognito":
		return "#fdebd0"
	case "IAM":
		return "#fadbd8"
	case "Lambda", "ApiGatewayV2":
		return "#d6eaf8"
	case "SecretsManager", "KMS":
		return "#e8daef"
	case "Logs", "CloudWatch", "SNS":
		return "#fcf3cf"
	case "CloudFront", "WAFv2":
		return "#d1f2eb"
	}
	return "#f2f2f2"
}
