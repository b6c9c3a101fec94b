package standin

import (
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/s3vend/s3vend/internal/accessmatrix"
)

// callAuthorizer decides the requests to the stack's services other than
// the bucket (the SQS and CloudWatch stand-ins) as IAM would, with the S3
// stand-in's evaluator: the caller's identity policies (a role's from the
// template, an operator's from its session) and the resource's policy
// allow the action, and nothing denies it. A signed request of a session
// that is neither (the vendor's static developer keys) is allowed nothing.
type callAuthorizer struct {
	model *accessmatrix.Model
	az    *accessmatrix.Authorizer

	mu    sync.Mutex
	roles map[string]map[string]any // role logical id -> resolved identity policies
}

func newCallAuthorizer(model *accessmatrix.Model, az *accessmatrix.Authorizer) *callAuthorizer {
	return &callAuthorizer{model: model, az: az, roles: map[string]map[string]any{}}
}

// rolePolicies are the template role's identity policies, resolved once.
func (c *callAuthorizer) rolePolicies(roleID string) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.roles[roleID]; ok {
		return p, nil
	}
	p, err := c.model.RolePolicies(roleID)
	if err != nil {
		return nil, err
	}
	c.roles[roleID] = p
	return p, nil
}

// roleSession is a session of the template's role roleID, as a principal
// whose identity policies are the role's (the metering function's
// execution role, for instance).
func (c *callAuthorizer) roleSession(roleID, name string) (Session, error) {
	policies, err := c.rolePolicies(roleID)
	if err != nil {
		return Session{}, err
	}
	return Session{Principal: c.model.SessionARN(roleID, name), Policies: policies}, nil
}

// allow decides sess calling action on resource (an ARN, or "*"), with the
// resource's policy (nil for none) and the request's other condition keys.
// Every stand-in serves TLS only, so aws:SecureTransport is true.
func (c *callAuthorizer) allow(sess Session, action, resource string, resourcePolicy any, context map[string]any) (bool, error) {
	call := accessmatrix.Call{Action: action, Resource: resource, ResourcePolicy: resourcePolicy, Context: map[string]any{"aws:SecureTransport": "true"}}
	maps.Copy(call.Context, context)
	switch {
	case sess.RoleARN != "":
		_, roleID, ok := strings.Cut(sess.RoleARN, ":role/")
		if !ok {
			return false, fmt.Errorf("standin: session role %s is not a role ARN", sess.RoleARN)
		}
		policies, err := c.rolePolicies(roleID)
		if err != nil {
			return false, err
		}
		call.Principal, call.Policies = c.model.SessionARN(roleID, "CognitoIdentityCredentials"), policies
	case sess.Principal != "": // an operator's user, or a service principal (no policies: the resource's alone)
		call.Principal, call.Policies = sess.Principal, sess.Policies
	default:
		return false, nil
	}
	return c.az.AuthorizeCall(call)
}
