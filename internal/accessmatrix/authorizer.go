package accessmatrix

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
)

// Access is one request to the model's bucket, as the S3 stand-in
// authorizes it.
type Access struct {
	// Anonymous is an unsigned request; then RoleARN, IdentityID and Amr
	// are unused.
	Anonymous bool
	// RoleARN is the role the caller's credentials act as. Signed requests
	// whose role is not one of the pool's roles (such as static developer
	// credentials) are denied everything.
	RoleARN    string
	IdentityID string   // ${<prefix>:sub} of the session (contract.CognitoPrincipal)
	Amr        []string // <prefix>:amr of the session
	Action     string   // an S3 action, such as s3:GetObject
	// Key is the object key; "" for a bucket action such as s3:ListBucket.
	Key string
	// Prefix is s3:prefix, set for s3:ListBucket (nil: the key is absent).
	Prefix *string
	// TLSVersion is the connection's TLS version ("1.2", "1.3"); "" without
	// TLS, which makes aws:SecureTransport false.
	TLSVersion string
	// Tags are the session's tags: aws:PrincipalTag/<key> in every request,
	// and the trust policy must allow sts:TagSession with them.
	Tags map[string]string
	// Attached are identity policies attached to RoleARN outside the
	// template (name -> document), such as the revocation deny policies
	// `s3vend admin revoke` maintains; they join the role's own policies.
	// With Principal instead of RoleARN they are the principal's only
	// identity policies.
	Attached map[string]any
	// Principal is an IAM principal of the account that is not one of the
	// pool's roles, such as an operator's user (RoleARN empty): the bucket
	// policy and Attached decide its requests, with no trust policy to pass.
	Principal string
	// Context holds the request's other condition keys, such as
	// s3:x-amz-storage-class (S3ConditionKeys); nil for none.
	Context map[string]any
}

// Authorizer decides Access requests with the same simulations as Evaluate,
// in one long-running Node process (evaluate.mjs --serve) that it talks to
// in JSON lines, one request at a time; decisions are cached by simulation
// (principal, action, resource and context).
type Authorizer struct {
	s     *stack
	roles map[string]string // role ARN -> role-attachment key

	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *lockedBuffer
	cache  map[string]string
	err    error // sticky: the process failed
}

// maxCached bounds the decision cache; it is emptied when full.
const maxCached = 1 << 14

// NewAuthorizer starts the evaluator (node is Node 24 or later) with the
// model's policies loaded.
func (m *Model) NewAuthorizer(node string) (*Authorizer, error) {
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	a := &Authorizer{s: m.s, roles: map[string]string{}, cache: map[string]string{}, stderr: &lockedBuffer{}}
	for key, r := range m.s.roles {
		a.roles[r.arn] = key
	}
	a.cmd = exec.Command(node, script, "--serve")
	a.cmd.Stderr = a.stderr
	if a.stdin, err = a.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	a.stdout = bufio.NewReader(out)
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w", node, script, err)
	}
	if _, err := a.exchange(map[string]any{"policies": m.s.policies}); err != nil {
		_ = a.Close()
		return nil, err
	}
	return a, nil
}

// Authorize reports whether q is allowed: for a role session, the role's
// trust policy must accept the session (aud = the pool, its amr), and the
// bucket policy or the role's identity policies must allow q with no
// explicit deny; an anonymous request has the bucket policy alone.
func (a *Authorizer) Authorize(q Access) (bool, error) {
	if q.Action == "" {
		return false, errors.New("accessmatrix: Access without an action")
	}
	acc := s3Access{action: q.Action, key: q.Key, tlsVersion: q.TLSVersion, prefix: q.Prefix, context: q.Context}
	if q.Anonymous {
		return a.allowed(a.s.s3Simulation(nil, acc))
	}
	if q.RoleARN == "" && q.Principal != "" {
		sim := a.s.s3Simulation(nil, acc)
		sim.Principal, sim.AttachedPolicies = q.Principal, q.Attached
		return a.allowed(sim)
	}
	key, ok := a.roles[q.RoleARN]
	if !ok {
		return false, nil // not a role of the pool: nothing allows it
	}
	c := caller{roleKey: key, identityID: q.IdentityID, amr: q.Amr, tags: q.Tags}
	if ok, err := a.allAllowed(a.s.assume(c)); !ok || err != nil {
		return false, err
	}
	sim := a.s.s3Simulation(&c, acc)
	sim.AttachedPolicies = q.Attached
	return a.allowed(sim)
}

// Call is a request to a service other than the bucket (SQS, CloudWatch),
// as the stand-ins of those services authorize it: the principal's identity
// policies and the resource's policy decide, in the model's account, with
// no trust policy to pass (the principal's credentials exist already).
type Call struct {
	// Principal is an IAM principal ARN (an assumed-role session, a user)
	// or a service principal such as s3.amazonaws.com.
	Principal string
	// Policies are the principal's identity policies, name -> document
	// (Model.RolePolicies); nil for a service principal.
	Policies map[string]any
	Action   string // such as sqs:ReceiveMessage
	Resource string // an ARN, or "*" for an action without resource types
	// ResourcePolicy is the resource's policy document (a queue policy);
	// nil for none.
	ResourcePolicy any
	// Context holds the request's condition keys: aws:SecureTransport,
	// aws:SourceArn, cloudwatch:namespace, ...
	Context map[string]any
}

// AuthorizeCall reports whether c is allowed: an identity policy or the
// resource policy allows it, and nothing denies it explicitly.
func (a *Authorizer) AuthorizeCall(c Call) (bool, error) {
	if c.Action == "" || c.Principal == "" || c.Resource == "" {
		return false, errors.New("accessmatrix: Call needs Principal, Action and Resource")
	}
	ctx := c.Context
	if ctx == nil {
		ctx = map[string]any{}
	}
	return a.allowed(simulation{
		Principal: c.Principal, Action: c.Action, Resource: c.Resource, ResourceAccount: a.s.Account,
		AttachedPolicies: c.Policies, ResourcePolicyDocument: c.ResourcePolicy, Context: ctx,
	})
}

// Session is a Cognito web identity session about to be issued: the role
// it would act as, the token's identity id and amr, and its session tags.
type Session struct {
	RoleARN    string
	IdentityID string
	Amr        []string
	Tags       map[string]string
}

// AllowAssume reports whether the role's trust policy lets Cognito's
// session s take the role: sts:AssumeRoleWithWebIdentity, and
// sts:TagSession for its tags. The STS and Cognito stand-ins ask it before
// they issue credentials, as STS does; a role that is not the pool's is
// refused.
func (a *Authorizer) AllowAssume(s Session) (bool, error) {
	key, ok := a.roles[s.RoleARN]
	if !ok {
		return false, nil
	}
	return a.allAllowed(a.s.assume(caller{roleKey: key, identityID: s.IdentityID, amr: s.Amr, tags: s.Tags}))
}

func (a *Authorizer) allAllowed(sims []simulation) (bool, error) {
	for _, sim := range sims {
		if ok, err := a.allowed(sim); !ok || err != nil {
			return false, err
		}
	}
	return true, nil
}

func (a *Authorizer) allowed(sim simulation) (bool, error) {
	if sim.IdentityPolicies == nil {
		sim.IdentityPolicies = []string{}
	}
	line, err := json.Marshal(sim)
	if err != nil {
		return false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return false, a.err
	}
	result, ok := a.cache[string(line)]
	if !ok {
		if result, err = a.exchange(json.RawMessage(line)); err != nil {
			return false, err
		}
		if len(a.cache) >= maxCached {
			clear(a.cache)
		}
		a.cache[string(line)] = result
	}
	return result == "Allowed", nil
}

// exchange sends one line and reads the answer; the caller holds mu (or is
// NewAuthorizer).
func (a *Authorizer) exchange(msg any) (string, error) {
	if a.err != nil {
		return "", a.err
	}
	line, err := json.Marshal(msg)
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		a.err = fmt.Errorf("accessmatrix: evaluator: %w (stderr: %s)", err, strings.TrimSpace(a.stderr.String()))
		return "", a.err
	}
	if _, err := a.stdin.Write(append(line, '\n')); err != nil {
		return fail(err)
	}
	reply, err := a.stdout.ReadBytes('\n')
	if err != nil {
		return fail(err)
	}
	var out struct{ Result, Error string }
	if err := json.Unmarshal(reply, &out); err != nil {
		return fail(fmt.Errorf("bad reply %q: %w", reply, err))
	}
	if out.Error != "" {
		return "", fmt.Errorf("accessmatrix: evaluator: %s", out.Error)
	}
	return out.Result, nil
}

// Close stops the Node process.
func (a *Authorizer) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil || a.cmd.Process == nil {
		return nil
	}
	_ = a.stdin.Close() // evaluate.mjs exits at the end of its input
	err := a.cmd.Wait()
	a.cmd = nil
	if a.err == nil {
		a.err = errors.New("accessmatrix: authorizer closed")
	}
	return err
}

// lockedBuffer is the evaluator's stderr, written by exec's copying goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<16 {
		return len(p), nil // keep the head, where the first failure is
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
