package accessmatrix

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Model is a template's bucket, identity pool and roles with intrinsics
// resolved to the test values this package uses (account 111122223333, bucket
// s3vend-test-bucket, pool <region>:00000000-0000-4000-8000-000000000000, role
// ARNs named after their logical ids). The local stand-ins (internal/standin)
// take their names from it, so their IAM decisions and the matrix agree.
type Model struct {
	s        *stack
	template map[string]any
}

// Load resolves template into a Model.
func Load(template map[string]any) (*Model, error) {
	s, err := load(template)
	if err != nil {
		return nil, err
	}
	return &Model{s: s, template: template}, nil
}

// Resolve replaces Ref, Fn::GetAtt and Fn::Join in v with the model's test
// values (as in the policies); other intrinsics are errors.
func (m *Model) Resolve(v any) (any, error) { return m.resolver().resolve(v) }

// resolver resolves intrinsics of the model's template.
func (m *Model) resolver() *resolver {
	resources, _ := m.template["Resources"].(map[string]any)
	bucketID := refTo(dig(m.template, "Outputs", "BucketName", "Value"))
	return &resolver{env: m.s.env, resources: resources, bucket: bucketID}
}

// Template is the template the model was loaded from.
func (m *Model) Template() map[string]any { return m.template }

// Partition is the template's partition: aws or aws-cn (contract.Partitions).
func (m *Model) Partition() string { return m.s.Partition }

// Region is the template's region (the partition's default when env-agnostic).
func (m *Model) Region() string { return m.s.Region }

// Account is the test account id.
func (m *Model) Account() string { return m.s.Account }

// BucketName is the client bucket's name.
func (m *Model) BucketName() string { return testBucketName }

// BucketARN is the client bucket's ARN.
func (m *Model) BucketARN() string { return m.s.bucketARN }

// IdentityPoolID is the identity pool's id.
func (m *Model) IdentityPoolID() string { return m.s.poolID }

// RoleARN is the ARN of the role the pool attaches under key
// ("authenticated" or "unauthenticated"); "" when there is none.
func (m *Model) RoleARN(key string) string { return m.s.roles[key].arn }

// Policies are the resolved policy documents by name: "bucket", "trust/<key>"
// and "<key>/<logical id>..." for each role's identity policies.
func (m *Model) Policies() map[string]any { return m.s.policies }

// IdentityPolicies names the identity policies of the role under key.
func (m *Model) IdentityPolicies(key string) []string { return m.s.roles[key].policies }

// RestrictPublicBuckets is the bucket's Block Public Access setting of that name.
func (m *Model) RestrictPublicBuckets() bool { return m.s.restrictPublicBuckets }

// BucketLogicalID is the logical id of the client bucket (the BucketName
// output's Ref).
func (m *Model) BucketLogicalID() string {
	return refTo(dig(m.template, "Outputs", "BucketName", "Value"))
}

// BlocksSSEC reports whether the client bucket's encryption configuration
// blocks SSE-C writes (BlockedEncryptionTypes lists SSE-C).
func (m *Model) BlocksSSEC() bool {
	resources, _ := m.template["Resources"].(map[string]any)
	bucketID := refTo(dig(m.template, "Outputs", "BucketName", "Value"))
	rules, _ := dig(resources, bucketID, "Properties", "BucketEncryption", "ServerSideEncryptionConfiguration").([]any)
	for _, r := range rules {
		types, _ := dig(r, "BlockedEncryptionTypes", "EncryptionType").([]any)
		if slices.Contains(types, any("SSE-C")) {
			return true
		}
	}
	return false
}

// WithoutStatements returns a deep copy of template whose identity policies
// (AWS::IAM::Policy) lack the statements drop selects, and how many it
// removed: the mutation tests that show a guardrail is what refuses a
// request.
func WithoutStatements(template map[string]any, drop func(statement map[string]any) bool) (map[string]any, int, error) {
	raw, err := json.Marshal(template)
	if err != nil {
		return nil, 0, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, 0, err
	}
	removed := 0
	resources, _ := out["Resources"].(map[string]any)
	for _, r := range resources {
		if dig(r, "Type") != "AWS::IAM::Policy" {
			continue
		}
		doc, _ := dig(r, "Properties", "PolicyDocument").(map[string]any)
		sts, _ := doc["Statement"].([]any)
		var kept []any
		for _, st := range sts {
			if m, ok := st.(map[string]any); ok && drop(m) {
				removed++
				continue
			}
			kept = append(kept, st)
		}
		if doc != nil {
			doc["Statement"] = kept
		}
	}
	return out, removed, nil
}

// RolePolicies are the identity policies of the template's role with
// logical id roleID (inline, and the AWS::IAM::Policy and ManagedPolicy
// resources attached to it), resolved, by name; an error for a role it
// cannot evaluate faithfully (managed policy ARNs, a permissions boundary,
// an intrinsic the model does not resolve).
func (m *Model) RolePolicies(roleID string) (map[string]any, error) {
	l := &loader{resolver: m.resolver(), s: &stack{env: m.s.env, roles: map[string]role{}, policies: map[string]any{}}}
	if l.resourceType(roleID) != "AWS::IAM::Role" {
		return nil, fmt.Errorf("accessmatrix: %s is not a role of the template", roleID)
	}
	rp, _ := dig(l.resources, roleID, "Properties").(map[string]any)
	if rp["PermissionsBoundary"] != nil || rp["ManagedPolicyArns"] != nil {
		return nil, fmt.Errorf("accessmatrix: role %s has managed policy ARNs or a permissions boundary, which the model does not evaluate", roleID)
	}
	inline, _ := rp["Policies"].([]any)
	for i, p := range inline {
		if err := l.addPolicy(fmt.Sprintf("%s/inline%d", roleID, i), dig(p, "PolicyDocument")); err != nil {
			return nil, err
		}
	}
	if _, err := l.attachedPolicies(roleID, roleID, nil); err != nil {
		return nil, err
	}
	return l.s.policies, nil
}

// SessionARN is the principal of a session of the template's role roleID
// (arn:<partition>:sts::<account>:assumed-role/<role>/<session>), as IAM
// names it in a request.
func (m *Model) SessionARN(roleID, session string) string {
	return fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", m.s.Partition, m.s.Account, roleID, session)
}
