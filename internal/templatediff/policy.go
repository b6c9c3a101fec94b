package templatediff

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Statement is one policy statement, normalized so that two statements that
// grant the same thing compare equal: lists sorted, single values turned into
// one-element lists, intrinsics rendered as readable ${X.Arn} strings. The
// Sid is kept for display but is not part of the identity.
type Statement struct {
	Sid        string
	Effect     string
	Principal  []string // "AWS: arn:...", "Service: lambda.amazonaws.com", "*"
	Principals string   // "Principal" or "NotPrincipal"
	Action     []string
	Actions    string // "Action" or "NotAction"
	Resource   []string
	Resources  string   // "Resource" or "NotResource"
	Condition  []string // "StringEquals cognito-identity.amazonaws.com:aud = [...]"
}

// Key is the statement's identity: everything but the Sid.
func (s Statement) Key() string {
	return strings.Join([]string{
		s.Effect,
		s.Principals, strings.Join(s.Principal, "\x1f"),
		s.Actions, strings.Join(s.Action, "\x1f"),
		s.Resources, strings.Join(s.Resource, "\x1f"),
		strings.Join(s.Condition, "\x1f"),
	}, "\x1e")
}

// Lines renders the statement for a reviewer, one aspect per line.
func (s Statement) Lines() []string {
	head := s.Effect
	if s.Actions == "NotAction" {
		head += " every action except"
	}
	head += " " + strings.Join(s.Action, ", ")
	if s.Sid != "" {
		head += "   (Sid " + s.Sid + ")"
	}
	out := []string{head}
	if len(s.Resource) > 0 {
		label := "on"
		if s.Resources == "NotResource" {
			label = "on every resource except"
		}
		out = append(out, fmt.Sprintf("  %s %s", label, strings.Join(s.Resource, ", ")))
	}
	if len(s.Principal) > 0 {
		label := "to"
		if s.Principals == "NotPrincipal" {
			label = "to everyone except"
		}
		out = append(out, fmt.Sprintf("  %s %s", label, strings.Join(s.Principal, ", ")))
	}
	for _, c := range s.Condition {
		out = append(out, "  when "+c)
	}
	return out
}

// PolicyDoc is one policy document of a resource: a role's trust policy, one
// of its inline policies, a bucket policy, a Lambda permission...
type PolicyDoc struct {
	Resource   string // logical id
	Type       string // resource type
	Label      string // "trust policy", "inline policy X", "policy document", ...
	Target     string // what the document applies to: "roles ${X}", "bucket ${B}"; display only
	Statements []Statement
}

// policyProps names, per resource type, the properties that hold a policy
// document and how to label them. Types with special shapes (roles, Lambda
// permissions) are handled in policyDocs.
var policyProps = map[string][][2]string{
	"AWS::IAM::Policy":                    {{"PolicyDocument", "policy"}},
	"AWS::IAM::ManagedPolicy":             {{"PolicyDocument", "managed policy"}},
	"AWS::IAM::GroupPolicy":               {{"PolicyDocument", "group policy"}},
	"AWS::IAM::UserPolicy":                {{"PolicyDocument", "user policy"}},
	"AWS::IAM::RolePolicy":                {{"PolicyDocument", "role policy"}},
	"AWS::S3::BucketPolicy":               {{"PolicyDocument", "bucket policy"}},
	"AWS::S3Express::BucketPolicy":        {{"PolicyDocument", "bucket policy"}},
	"AWS::SNS::TopicPolicy":               {{"PolicyDocument", "topic policy"}},
	"AWS::SQS::QueuePolicy":               {{"PolicyDocument", "queue policy"}},
	"AWS::KMS::Key":                       {{"KeyPolicy", "key policy"}},
	"AWS::SecretsManager::ResourcePolicy": {{"ResourcePolicy", "secret resource policy"}},
	"AWS::ECR::Repository":                {{"RepositoryPolicyText", "repository policy"}},
	"AWS::Logs::ResourcePolicy":           {{"PolicyDocument", "logs resource policy"}},
	"AWS::ApiGateway::RestApi":            {{"Policy", "API resource policy"}},
	"AWS::OpenSearchService::Domain":      {{"AccessPolicies", "domain access policy"}},
	"AWS::Events::EventBusPolicy":         {{"Statement", "event bus policy statement"}},
}

// policyDocs extracts every policy document of one resource.
func policyDocs(id string, r resource) []PolicyDoc {
	var docs []PolicyDoc
	add := func(label string, doc any) {
		docs = append(docs, PolicyDoc{Resource: id, Type: r.Type, Label: label, Target: target(r.Properties), Statements: statements(doc)})
	}
	switch r.Type {
	case "AWS::IAM::Role":
		if d, ok := r.Properties["AssumeRolePolicyDocument"]; ok {
			add("trust policy", d)
		}
		if ps, ok := r.Properties["Policies"].([]any); ok {
			for _, p := range ps {
				pm, _ := p.(map[string]any)
				add("inline policy "+Render(pm["PolicyName"]), pm["PolicyDocument"])
			}
		}
		if arns, ok := r.Properties["ManagedPolicyArns"].([]any); ok {
			// A managed policy's statements are not in the template: its
			// attachment is what the reviewer can see.
			var st []Statement
			for _, a := range arns {
				st = append(st, Statement{Effect: "Attach", Actions: "Action", Action: []string{"managed policy " + Render(a)}})
			}
			docs = append(docs, PolicyDoc{Resource: id, Type: r.Type, Label: "managed policies", Statements: st})
		}
	case "AWS::Lambda::Permission":
		add("invoke permission", lambdaPermission(r.Properties))
	case "AWS::Events::EventBusPolicy":
		if s, ok := r.Properties["Statement"]; ok {
			add("event bus policy", map[string]any{"Statement": []any{s}})
		}
	default:
		for _, p := range policyProps[r.Type] {
			if d, ok := r.Properties[p[0]]; ok {
				add(p[1], d)
			}
		}
	}
	return docs
}

// target names what a policy document is attached to, for the reviewer.
func target(p map[string]any) string {
	var parts []string
	for _, k := range []string{"Roles", "Users", "Groups", "Bucket", "Topics", "Queues", "FunctionName", "SecretId"} {
		if v, ok := p[k]; ok {
			parts = append(parts, strings.ToLower(k)+" "+strings.Join(list(v), ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// lambdaPermission expresses an AWS::Lambda::Permission as the statement it
// adds to the function's resource policy.
func lambdaPermission(p map[string]any) map[string]any {
	st := map[string]any{
		"Effect":    "Allow",
		"Action":    p["Action"],
		"Resource":  p["FunctionName"],
		"Principal": map[string]any{"Principal": p["Principal"]},
	}
	cond := map[string]any{}
	for prop, key := range map[string]string{
		"SourceArn":           "ArnLike aws:SourceArn",
		"SourceAccount":       "StringEquals aws:SourceAccount",
		"PrincipalOrgID":      "StringEquals aws:PrincipalOrgID",
		"FunctionUrlAuthType": "StringEquals lambda:FunctionUrlAuthType",
		"EventSourceToken":    "StringEquals EventSourceToken",
	} {
		if v, ok := p[prop]; ok {
			op, k, _ := strings.Cut(key, " ")
			m, _ := cond[op].(map[string]any)
			if m == nil {
				m = map[string]any{}
				cond[op] = m
			}
			m[k] = v
		}
	}
	if len(cond) > 0 {
		st["Condition"] = cond
	}
	return map[string]any{"Statement": []any{st}}
}

// statements flattens a policy document (an object, or a JSON string as some
// resource types take) into normalized statements.
func statements(doc any) []Statement {
	if s, ok := doc.(string); ok {
		var parsed any
		if json.Unmarshal([]byte(s), &parsed) == nil {
			doc = parsed
		}
	}
	m, ok := doc.(map[string]any)
	if !ok {
		if doc == nil {
			return nil
		}
		// An intrinsic or something unexpected: keep it visible as is.
		return []Statement{{Effect: "Document", Actions: "Action", Action: []string{Render(doc)}}}
	}
	var raw []any
	switch st := m["Statement"].(type) {
	case []any:
		raw = st
	case map[string]any:
		raw = []any{st}
	}
	out := make([]Statement, 0, len(raw))
	for _, r := range raw {
		sm, _ := r.(map[string]any)
		out = append(out, statement(sm))
	}
	return out
}

func statement(m map[string]any) Statement {
	s := Statement{Sid: Render(m["Sid"]), Effect: Render(m["Effect"])}
	if m["Sid"] == nil {
		s.Sid = ""
	}
	s.Actions, s.Action = either(m, "Action", "NotAction")
	s.Resources, s.Resource = either(m, "Resource", "NotResource")
	s.Principals = "Principal"
	p, ok := m["Principal"]
	if !ok {
		if p, ok = m["NotPrincipal"]; ok {
			s.Principals = "NotPrincipal"
		}
	}
	if ok {
		s.Principal = principals(p)
	}
	if c, ok := m["Condition"].(map[string]any); ok {
		s.Condition = conditions(c)
	} else if c, ok := m["Condition"]; ok {
		s.Condition = []string{Render(c)}
	}
	return s
}

func either(m map[string]any, yes, no string) (string, []string) {
	if v, ok := m[no]; ok {
		return no, list(v)
	}
	return yes, list(m[yes])
}

// list renders a value that is one item or a list of items as a sorted,
// de-duplicated list of strings.
func list(v any) []string {
	if v == nil {
		return nil
	}
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, Render(x))
		}
	} else {
		out = []string{Render(v)}
	}
	sort.Strings(out)
	return dedup(out)
}

func dedup(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func principals(p any) []string {
	m, ok := p.(map[string]any)
	if !ok {
		return []string{Render(p)} // "*"
	}
	var out []string
	for kind, v := range m {
		for _, x := range list(v) {
			if kind == "Principal" { // from a Lambda permission
				out = append(out, x)
				continue
			}
			out = append(out, kind+": "+x)
		}
	}
	sort.Strings(out)
	return out
}

func conditions(c map[string]any) []string {
	var out []string
	for op, kv := range c {
		m, ok := kv.(map[string]any)
		if !ok {
			out = append(out, op+" "+Render(kv))
			continue
		}
		for k, v := range m {
			vals := list(v)
			val := strings.Join(vals, ", ")
			if len(vals) != 1 {
				val = "[" + val + "]"
			}
			out = append(out, fmt.Sprintf("%s %s = %s", op, k, val))
		}
	}
	sort.Strings(out)
	return out
}

// Render turns a template value into a readable string: intrinsics become
// ${Logical.Attr} references, scalars their JSON text without quotes.
func Render(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool, float64, json.Number:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Render(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if s, ok := intrinsic(k, arg); ok {
					return s
				}
			}
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func intrinsic(fn string, arg any) (string, bool) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		return "${" + Render(arg) + "}", true
	case "Fn::GetAtt":
		if s, ok := arg.(string); ok {
			return "${" + s + "}", true
		}
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = Render(a)
		}
		return "${" + strings.Join(parts, ".") + "}", true
	case "Fn::Join":
		if len(args) == 2 {
			items, _ := args[1].([]any)
			parts := make([]string, len(items))
			for i, it := range items {
				parts[i] = Render(it)
			}
			return strings.Join(parts, Render(args[0])), true
		}
	case "Fn::Sub":
		if s, ok := arg.(string); ok {
			return s, true
		}
		if len(args) == 2 {
			s := Render(args[0])
			vars, _ := args[1].(map[string]any)
			for k, val := range vars {
				s = strings.ReplaceAll(s, "${"+k+"}", Render(val))
			}
			return s, true
		}
	case "Fn::ImportValue":
		return "${Import:" + Render(arg) + "}", true
	case "Fn::Select", "Fn::Split", "Fn::If", "Fn::GetAZs", "Fn::FindInMap", "Fn::Base64", "Fn::Cidr", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = Render(a)
		}
		if args == nil {
			parts = []string{Render(arg)}
		}
		return strings.TrimPrefix(fn, "Fn::") + "(" + strings.Join(parts, ", ") + ")", true
	}
	return "", false
}
