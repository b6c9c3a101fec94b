// Package accessmatrix evaluates who may do what in s3vend's bucket, from a
// synthesized template, with a real IAM policy evaluator: the bucket policy,
// the Cognito roles' trust policies and their identity policies go through
// @cloud-copilot/iam-simulate (evaluate.mjs, run on Node), not string matching.
//
// Two callers run the evaluator, both on the developer's machine: Evaluate,
// one Node process per call, from the CDK tests (test/accessmatrix_test.go);
// and Authorizer, a long-running `evaluate.mjs --serve`, which the S3
// stand-in (internal/standin.NewS3) starts to authorize every request it
// serves: in `make local` (cmd/s3vend-local), the end-to-end client tests
// (test/e2e) and the stand-ins' own tests.
//
// iam-simulate is AGPL-3.0. It is a devDependency of those local tools and
// tests, never imported by the Lambda or the CDK app and never bundled into
// or shipped with s3vend.
package accessmatrix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/s3vend/s3vend/contract"
)

// Request is one attempt at the bucket.
type Request struct {
	Principal string // anonymous, guest, userA or userB
	// Action is get, put, delete or list, or assume:authenticated or
	// assume:unauthenticated (take that Cognito role; Prefix is unused).
	Action string
	// Prefix is the key prefix, such as "private/A/". An owner segment A or B
	// stands for that user's identity id. Objects are <prefix>photo.jpg; list
	// asks s3:ListBucket with s3:prefix set to the prefix.
	Prefix string
	// Insecure sends the request without TLS (aws:SecureTransport=false).
	Insecure bool
	// Header holds request headers of a put, one "Name: value" per line,
	// such as "x-amz-storage-class: GLACIER": they add the condition keys
	// and header-driven actions S3 evaluates (ObjectWriteChecks), all of
	// which must allow the put.
	Header string
}

// identity is a Cognito identity: the role its credentials come from (a key
// of the pool's role attachment) and its identity id without the region.
type identity struct{ role, id string }

var identities = map[string]identity{
	"guest": {"unauthenticated", "cccccccc-cccc-4ccc-8ccc-cccccccccccc"},
	"userA": {"authenticated", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"},
	"userB": {"authenticated", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"},
}

var s3Actions = map[string]string{
	"get": "s3:GetObject", "put": "s3:PutObject", "delete": "s3:DeleteObject", "list": "s3:ListBucket",
}

// Evaluate resolves the template's bucket policy and Cognito role policies and
// asks iam-simulate, in one Node process, whether each request is allowed.
// node is the Node binary (24 or later).
//
// The model is same-account access: a role session is allowed when its role's
// trust policy lets it assume the role (sts:AssumeRoleWithWebIdentity from
// the partition's Cognito principal with the session's aud and amr, named as
// contract.Partitions says, or as EvaluateAs is told), and its
// identity policies or the bucket policy allow the request, and nothing
// explicitly denies it. Anonymous requests carry no identity policy; a
// principal whose role the template lacks is denied everything.
func Evaluate(template map[string]any, node string, reqs []Request) (map[Request]bool, error) {
	return EvaluateAs(template, node, reqs, nil)
}

// EvaluateAs is Evaluate with the Cognito sessions named as cognito says (the
// principal and condition-key prefix AWS would use), instead of the
// template's partition's default from contract.Partitions.
func EvaluateAs(template map[string]any, node string, reqs []Request, cognito *contract.CognitoPrincipal) (map[Request]bool, error) {
	s, err := load(template)
	if err != nil {
		return nil, err
	}
	if cognito != nil {
		s.cognito = *cognito
	}
	var b batch
	allowed := map[Request]bool{}
	for _, q := range reqs {
		asked, err := s.planRequest(&b, q)
		if err != nil {
			return nil, err
		}
		if !asked {
			allowed[q] = false
		}
	}
	results, err := run(node, s.policies, b.sims)
	if err != nil {
		return nil, err
	}
	for i, q := range reqs {
		if ok, asked := b.allowed(i, results); asked {
			allowed[q] = ok
		}
	}
	return allowed, nil
}

// planRequest adds to b the simulations one matrix request needs: for an
// identity, assuming the role (its own, or the one an assume:<role> action
// names), then, unless the request only assumes, the S3 request. It
// returns false for a request denied without asking: a role the template
// lacks (no credentials), or an anonymous caller assuming a role.
func (s *stack) planRequest(b *batch, q Request) (bool, error) {
	i := b.next()
	who, isIdentity := identities[q.Principal]
	if q.Principal != "anonymous" && !isIdentity {
		return false, fmt.Errorf("unknown principal %q", q.Principal)
	}
	roleKey := who.role
	if target, ok := strings.CutPrefix(q.Action, "assume:"); ok {
		roleKey = target
	} else if _, ok := s3Actions[q.Action]; !ok {
		return false, fmt.Errorf("unknown action %q", q.Action)
	}
	if isIdentity {
		if _, ok := s.roles[roleKey]; !ok {
			return false, nil // no such role: no credentials
		}
		b.needAssume(i, q.Principal, roleKey, func() []simulation { return s.assume(s.matrixCaller(who, roleKey)) })
	} else if roleKey != "" {
		return false, nil // anonymous callers have no token to assume a role with
	}
	if !strings.HasPrefix(q.Action, "assume:") {
		reqSims, err := s.s3Request(q, who, isIdentity)
		if err != nil {
			return false, err
		}
		for _, sim := range reqSims {
			b.needSim(i, sim)
		}
	}
	return true, nil
}

// batch gathers the simulations of many requests into one iam-simulate
// run: need[i] lists the simulations that must all allow request i (nil:
// not asked, denied), and trust ({principal, role} to indexes into sims)
// shares one role assumption between the requests of a principal and role.
type batch struct {
	sims  []simulation
	trust map[[2]string][]int
	need  [][]int
}

// next starts the next request and returns its index.
func (b *batch) next() int {
	b.need = append(b.need, nil)
	return len(b.need) - 1
}

// needAssume makes request i need the simulations of principal assuming
// role, which assume returns, simulated once per pair.
func (b *batch) needAssume(i int, principal, role string, assume func() []simulation) {
	if b.trust == nil {
		b.trust = map[[2]string][]int{}
	}
	k := [2]string{principal, role}
	if _, ok := b.trust[k]; !ok {
		for _, sim := range assume() {
			b.trust[k] = append(b.trust[k], len(b.sims))
			b.sims = append(b.sims, sim)
		}
	}
	b.need[i] = append(b.need[i], b.trust[k]...)
}

// needSim makes request i need sim.
func (b *batch) needSim(i int, sim simulation) {
	b.need[i] = append(b.need[i], len(b.sims))
	b.sims = append(b.sims, sim)
}

// allowed reports whether request i was asked about, and if so whether
// every simulation it needs came back Allowed.
func (b *batch) allowed(i int, results []string) (ok, asked bool) {
	if b.need[i] == nil {
		return false, false
	}
	ok = true
	for _, j := range b.need[i] {
		ok = ok && results[j] == "Allowed"
	}
	return ok, true
}

// identityID is an identity's id in the template's region, the value of
// ${<condition-key prefix>:sub} in its sessions.
func (s *stack) identityID(who identity) string { return s.Region + ":" + who.id }

// caller is a Cognito role session as IAM sees it: the role (a key of the
// pool's role attachment), the identity id and amr its web identity token
// carried, and its session tags (contract/tags.go).
type caller struct {
	roleKey, identityID string
	amr                 []string
	tags                map[string]string
}

// matrixCaller is the session of a matrix identity under roleKey. Real
// sessions of developer-authenticated identities also list the provider in
// amr; the trust policies only test for authenticated/unauthenticated.
func (s *stack) matrixCaller(who identity, roleKey string) caller {
	return caller{roleKey: roleKey, identityID: s.identityID(who), amr: []string{who.role}}
}

// sessionContext is what a Cognito web-identity session carries in the
// context of the requests it signs: the token's aud, sub and amr, and
// aws:PrincipalTag/<key> for each session tag ("When you use the session
// credentials to make a subsequent request, the request context includes
// the aws:PrincipalTag context key", IAM User Guide, "Passing session tags
// in AWS STS").
func (s *stack) sessionContext(c caller) map[string]any {
	ctx := s.tokenContext(c)
	for k, v := range c.tags {
		ctx[contract.PrincipalTagContextKey(k)] = v
	}
	return ctx
}

// tokenContext is the web identity token's claims as condition keys.
func (s *stack) tokenContext(c caller) map[string]any {
	amr := c.amr
	if amr == nil {
		amr = []string{}
	}
	return map[string]any{
		s.cognito.Key("aud"): s.poolID,
		s.cognito.Key("sub"): c.identityID,
		s.cognito.Key("amr"): amr,
	}
}

// assume is the role's trust policy deciding whether c may take its role:
// sts:AssumeRoleWithWebIdentity and, for a session with tags, also
// sts:TagSession ("In addition to the action that matches the API
// operation, you must have the following permissions-only action in your
// policy: sts:TagSession"), both with the request's tags as aws:TagKeys and
// aws:RequestTag/<key> (same IAM page, "Permissions required to add session
// tags"). Every returned simulation must allow.
func (s *stack) assume(c caller) []simulation {
	ctx := s.tokenContext(c)
	if len(c.tags) > 0 {
		keys := slices.Sorted(maps.Keys(c.tags))
		ctx["aws:TagKeys"] = keys
		for _, k := range keys {
			ctx["aws:RequestTag/"+k] = c.tags[k]
		}
	}
	sim := simulation{
		Principal:       simulatedPrincipal(s.cognito.TrustPrincipal),
		Action:          "sts:AssumeRoleWithWebIdentity",
		Resource:        s.roles[c.roleKey].arn,
		ResourceAccount: s.Account,
		ResourcePolicy:  "trust/" + c.roleKey,
		Context:         ctx,
	}
	sims := []simulation{sim}
	if len(c.tags) > 0 {
		sim.Action = "sts:TagSession"
		sims = append(sims, sim)
	}
	return sims
}

// s3Request is the simulations that must all allow q: one, or for a put
// with headers one per ObjectWriteChecks entry.
func (s *stack) s3Request(q Request, who identity, isIdentity bool) ([]simulation, error) {
	prefix := q.Prefix
	if parts := strings.SplitN(prefix, "/", 3); len(parts) == 3 && (parts[1] == "A" || parts[1] == "B") {
		parts[1] = s.identityID(identities["user"+parts[1]])
		prefix = strings.Join(parts, "/")
	}
	a := s3Access{action: s3Actions[q.Action], key: prefix + "photo.jpg", tlsVersion: "1.3"}
	if q.Action == "list" {
		a.key, a.prefix = "", &prefix
	}
	if q.Insecure {
		a.tlsVersion = ""
	}
	var c *caller
	if isIdentity {
		mc := s.matrixCaller(who, who.role)
		c = &mc
	}
	if q.Header == "" {
		return []simulation{s.s3Simulation(c, a)}, nil
	}
	if q.Action != "put" {
		return nil, fmt.Errorf("%+v: headers are evaluated for put only", q)
	}
	h, err := parseHeaderLines(q.Header)
	if err != nil {
		return nil, fmt.Errorf("%+v: %w", q, err)
	}
	var out []simulation
	for _, check := range ObjectWriteChecks(h) {
		a.action, a.context = check.Action, check.Context
		out = append(out, s.s3Simulation(c, a))
	}
	return out, nil
}

// parseHeaderLines reads "Name: value" lines into a header.
func parseHeaderLines(lines string) (http.Header, error) {
	h := http.Header{}
	for line := range strings.SplitSeq(strings.TrimSpace(lines), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("header line %q is not \"Name: value\"", line)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return h, nil
}

// s3Access is an S3 request: an action on the bucket (key "") or an object,
// s3:prefix for s3:ListBucket, the TLS version ("" without TLS), and the
// request's other condition keys (S3ConditionKeys).
type s3Access struct {
	action, key, tlsVersion string
	prefix                  *string
	context                 map[string]any
}

// s3Simulation is the bucket policy and, for a role session (c != nil), the
// role's identity policies deciding an S3 request; c nil is anonymous.
func (s *stack) s3Simulation(c *caller, a s3Access) simulation {
	resource := s.bucketARN
	if a.key != "" {
		resource += "/" + a.key
	}
	sim := simulation{
		Action:            a.action,
		Resource:          resource,
		ResourceAccount:   s.Account,
		Context:           map[string]any{"aws:SecureTransport": "false"},
		BlockPublicAccess: s.restrictPublicBuckets,
	}
	if a.tlsVersion != "" {
		sim.Context = map[string]any{"aws:SecureTransport": "true", "s3:TlsVersion": a.tlsVersion}
	}
	if a.prefix != nil {
		sim.Context["s3:prefix"] = *a.prefix
	}
	for k, v := range a.context {
		sim.Context[k] = v
	}
	if s.policies["bucket"] != nil {
		sim.ResourcePolicy = "bucket"
	}
	if c != nil {
		role := s.roles[c.roleKey]
		sim.Principal = fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/CognitoIdentityCredentials", s.Partition, s.Account, role.name)
		sim.IdentityPolicies = role.policies
		for k, v := range s.sessionContext(*c) {
			sim.Context[k] = v
		}
	}
	return sim
}

// simulation is one request for evaluate.mjs; policies are named in a table.
type simulation struct {
	Principal        any            `json:"principal"` // an ARN or service; nil: anonymous
	Action           string         `json:"action"`
	Resource         string         `json:"resource"`
	ResourceAccount  string         `json:"resourceAccount"`
	IdentityPolicies []string       `json:"identityPolicies"`
	AttachedPolicies map[string]any `json:"attachedPolicies,omitempty"` // documents, not names (Access.Attached)
	ResourcePolicy   string         `json:"resourcePolicy,omitempty"`
	// ResourcePolicyDocument is a resource policy given as a document
	// (Call.ResourcePolicy), instead of by name.
	ResourcePolicyDocument any            `json:"resourcePolicyDocument,omitempty"`
	Context                map[string]any `json:"context"`
	BlockPublicAccess      bool           `json:"blockPublicAccess"`
}

// run evaluates every simulation in one Node process and returns
// iam-simulate's result for each: Allowed, ImplicitlyDenied or ExplicitlyDenied.
func run(node string, policies map[string]any, sims []simulation) ([]string, error) {
	if len(sims) == 0 {
		return nil, nil
	}
	for i := range sims {
		if sims[i].IdentityPolicies == nil {
			sims[i].IdentityPolicies = []string{}
		}
	}
	in, err := json.Marshal(map[string]any{"policies": policies, "simulations": sims})
	if err != nil {
		return nil, err
	}
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(node, script)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s", node, script, err, stderr.Bytes())
	}
	var out struct{ Results []string }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("evaluate.mjs output: %w", err)
	}
	if len(out.Results) != len(sims) {
		return nil, fmt.Errorf("evaluate.mjs returned %d results for %d requests", len(out.Results), len(sims))
	}
	return out.Results, nil
}

// scriptPath is evaluate.mjs, next to this package's source (Node resolves
// iam-simulate from the repository's node_modules).
func scriptPath() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "evaluate.mjs")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("evaluate.mjs next to the package source: %w", err)
	}
	return script, nil
}

// stack is what the matrix needs of a template, with intrinsics resolved.
type stack struct {
	env
	bucketARN             string
	restrictPublicBuckets bool
	poolID                string
	roles                 map[string]role // by role-attachment key: authenticated, unauthenticated
	policies              map[string]any  // every policy document, by name
	cognito               contract.CognitoPrincipal
}

type role struct {
	name, arn string
	policies  []string // names of its identity policies
}

// load finds the client bucket (the BucketName output), its policy, and the
// identity pool's roles with their trust and identity policies.
func load(template map[string]any) (*stack, error) {
	resources, _ := template["Resources"].(map[string]any)
	e, err := detectEnv(template)
	if err != nil {
		return nil, err
	}
	bucketID := refTo(dig(template, "Outputs", "BucketName", "Value"))
	if bucketID == "" {
		return nil, fmt.Errorf("no BucketName output referring to the bucket")
	}
	l := &loader{
		resolver: &resolver{env: e, resources: resources, bucket: bucketID},
		s:        &stack{env: e, roles: map[string]role{}, policies: map[string]any{}},
	}
	p, ok := contract.PartitionNamed(e.Partition)
	if !ok {
		return nil, fmt.Errorf("partition %s is not in contract.Partitions", e.Partition)
	}
	l.s.cognito = p.Principal
	if err := l.clientBucket(); err != nil {
		return nil, err
	}
	if err := l.identityPool(); err != nil {
		return nil, err
	}
	return l.s, nil
}

// loader is one load in progress: the template's resolver and the stack
// it fills in.
type loader struct {
	*resolver
	s *stack
}

// addPolicy resolves a policy document and files it under a unique name.
func (l *loader) addPolicy(name string, doc any) error {
	if _, dup := l.s.policies[name]; dup {
		return fmt.Errorf("two policies named %s", name)
	}
	resolved, err := l.resolve(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.s.policies[name] = resolved
	return nil
}

// clientBucket reads the client bucket's ARN, its Block Public Access
// RestrictPublicBuckets setting and its bucket policy.
func (l *loader) clientBucket() error {
	var err error
	if l.s.bucketARN, err = l.getAtt([]any{l.bucket, "Arn"}); err != nil {
		return err
	}
	l.s.restrictPublicBuckets, _ = dig(l.resources, l.bucket, "Properties", "PublicAccessBlockConfiguration", "RestrictPublicBuckets").(bool)
	for _, id := range slices.Sorted(maps.Keys(l.resources)) {
		if l.resourceType(id) == "AWS::S3::BucketPolicy" && refTo(dig(l.resources, id, "Properties", "Bucket")) == l.bucket {
			if err := l.addPolicy("bucket", dig(l.resources, id, "Properties", "PolicyDocument")); err != nil {
				return err
			}
		}
	}
	return nil
}

// identityPool reads the one identity pool role attachment: the pool's id
// and each attached role (by key: authenticated, unauthenticated).
func (l *loader) identityPool() error {
	var attachments []string
	for _, id := range slices.Sorted(maps.Keys(l.resources)) {
		if l.resourceType(id) == "AWS::Cognito::IdentityPoolRoleAttachment" {
			attachments = append(attachments, id)
		}
	}
	if len(attachments) != 1 {
		return fmt.Errorf("want one identity pool role attachment, found %d", len(attachments))
	}
	props, _ := dig(l.resources, attachments[0], "Properties").(map[string]any)
	var err error
	if l.s.poolID, err = l.resolveString(props["IdentityPoolId"]); err != nil {
		return err
	}
	roles, _ := props["Roles"].(map[string]any)
	for key, arn := range roles {
		if l.s.roles[key], err = l.role(key, arn); err != nil {
			return err
		}
	}
	return nil
}

// role reads one attached role: its ARN, its trust policy (with the
// Federated principal renamed for the simulator) and its inline and
// attached identity policies. Managed policy ARNs and permissions
// boundaries are refused: the matrix would not evaluate them.
func (l *loader) role(key string, arn any) (role, error) {
	id := getAttID(arn)
	if l.resourceType(id) != "AWS::IAM::Role" {
		return role{}, fmt.Errorf("role attachment %s: %v is not a role of this stack", key, arn)
	}
	ro := role{name: id}
	var err error
	if ro.arn, err = l.resolveString(arn); err != nil {
		return role{}, err
	}
	rp, _ := dig(l.resources, id, "Properties").(map[string]any)
	for _, unsupported := range []string{"ManagedPolicyArns", "PermissionsBoundary"} {
		if rp[unsupported] != nil {
			return role{}, fmt.Errorf("role %s: %s is not evaluated by the access matrix", id, unsupported)
		}
	}
	if err := l.addPolicy("trust/"+key, simulatedFederated(rp["AssumeRolePolicyDocument"])); err != nil {
		return role{}, err
	}
	inline, _ := rp["Policies"].([]any)
	for i, p := range inline {
		name := fmt.Sprintf("%s/%s/inline%d", key, id, i)
		ro.policies = append(ro.policies, name)
		if err := l.addPolicy(name, dig(p, "PolicyDocument")); err != nil {
			return role{}, err
		}
	}
	if ro.policies, err = l.attachedPolicies(key, id, ro.policies); err != nil {
		return role{}, err
	}
	return ro, nil
}

// attachedPolicies adds to names the AWS::IAM::Policy and ManagedPolicy
// resources of the stack that attach themselves to role id.
func (l *loader) attachedPolicies(key, id string, names []string) ([]string, error) {
	for _, pid := range slices.Sorted(maps.Keys(l.resources)) {
		if t := l.resourceType(pid); t != "AWS::IAM::Policy" && t != "AWS::IAM::ManagedPolicy" {
			continue
		}
		attached, _ := dig(l.resources, pid, "Properties", "Roles").([]any)
		if !slices.ContainsFunc(attached, func(v any) bool { return refTo(v) == id }) {
			continue
		}
		name := key + "/" + pid
		names = append(names, name)
		if err := l.addPolicy(name, dig(l.resources, pid, "Properties", "PolicyDocument")); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// dig walks nested JSON objects by key; nil when a key is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// refTo returns id for {"Ref": id}, else "".
func refTo(v any) string {
	m, _ := v.(map[string]any)
	if len(m) != 1 {
		return ""
	}
	id, _ := m["Ref"].(string)
	return id
}

// getAttID returns id for {"Fn::GetAtt": [id, attr]}, else "".
func getAttID(v any) string {
	a, _ := dig(v, "Fn::GetAtt").([]any)
	if len(a) != 2 {
		return ""
	}
	id, _ := a[0].(string)
	return id
}

// simulatedPrincipal works around iam-simulate taking only names ending in
// "amazonaws.com" for service principals (@cloud-copilot/iam-utils
// isServicePrincipal: !isArnPrincipal(p) && p.endsWith('amazonaws.com')):
// any other web identity provider, such as AWS China's
// "cognito-identity.cn-north-1.amazonaws.com.cn", would need an identity
// policy as if it were an IAM user. Both the session's principal and the
// trust policies' Federated values go through this one injective renaming,
// so whether they are equal, which is what IAM checks, is unchanged.
func simulatedPrincipal(p string) string {
	if strings.HasSuffix(p, "amazonaws.com") {
		return p
	}
	return p + ".simulated.amazonaws.com"
}

// simulatedFederated is a trust policy document with every
// Principal.Federated renamed by simulatedPrincipal.
func simulatedFederated(doc any) any {
	d, ok := doc.(map[string]any)
	if !ok {
		return doc
	}
	out := maps.Clone(d)
	sts, _ := d["Statement"].([]any)
	outSTS := make([]any, len(sts))
	for i, st := range sts {
		m, ok := st.(map[string]any)
		pr, _ := m["Principal"].(map[string]any)
		if !ok || pr == nil {
			outSTS[i] = st
			continue
		}
		m, pr = maps.Clone(m), maps.Clone(pr)
		switch f := pr["Federated"].(type) {
		case string:
			pr["Federated"] = simulatedPrincipal(f)
		case []any:
			fs := make([]any, len(f))
			for j, x := range f {
				if str, ok := x.(string); ok {
					fs[j] = simulatedPrincipal(str)
				} else {
					fs[j] = x
				}
			}
			pr["Federated"] = fs
		}
		m["Principal"] = pr
		outSTS[i] = m
	}
	if sts != nil {
		out["Statement"] = outSTS
	}
	return out
}
