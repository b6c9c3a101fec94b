package standin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// IAMPolicies reads the managed policies attached to the pool's roles
// outside the template (the revocation deny of `s3vend admin revoke`) from
// a real IAM engine (moto's server, StackOptions.IAM), for the S3
// stand-in's decisions. Attachments are re-read at most every TTL: IAM is
// eventually consistent ("Changes that I make are not always immediately
// visible", IAM User Guide, troubleshooting), and a client of the deny
// must not assume it applies at once; the default TTL of one second keeps
// tests quick.
type IAMPolicies struct {
	client *iam.Client
	TTL    time.Duration

	mu    sync.Mutex
	cache map[string]iamEntry
}

type iamEntry struct {
	at   time.Time
	docs map[string]any
}

// NewIAMPolicies reads from the IAM endpoint with fixed test credentials.
func NewIAMPolicies(endpoint, region string) *IAMPolicies {
	c := iam.New(iam.Options{
		Region: region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIALOCALSTACKREADER", "local", ""),
	})
	return &IAMPolicies{client: c, TTL: time.Second, cache: map[string]iamEntry{}}
}

// EnsureRoles creates the pool's roles in the engine (by name), so that
// policies can be attached to them as to the deployed roles.
func (p *IAMPolicies) EnsureRoles(ctx context.Context, roleARNs ...string) error {
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`
	for _, arn := range roleARNs {
		if arn == "" {
			continue
		}
		_, err := p.client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(arn[strings.LastIndex(arn, "/")+1:]), AssumeRolePolicyDocument: aws.String(trust)})
		if err != nil && !strings.Contains(err.Error(), "EntityAlreadyExists") {
			return fmt.Errorf("standin: creating role %s in the IAM engine: %w", arn, err)
		}
	}
	return nil
}

// Attached returns the documents of the managed policies attached to role.
func (p *IAMPolicies) Attached(roleARN string) (map[string]any, error) {
	p.mu.Lock()
	e, ok := p.cache[roleARN]
	p.mu.Unlock()
	if ok && time.Since(e.at) < p.TTL {
		return e.docs, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := p.client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(roleARN[strings.LastIndex(roleARN, "/")+1:])})
	if err != nil {
		return nil, err
	}
	docs := map[string]any{}
	for _, ap := range out.AttachedPolicies {
		pol, err := p.client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: ap.PolicyArn})
		if err != nil {
			return nil, err
		}
		v, err := p.client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: ap.PolicyArn, VersionId: pol.Policy.DefaultVersionId})
		if err != nil {
			return nil, err
		}
		// IAM returns the document URL-encoded (RFC 3986).
		raw := aws.ToString(v.PolicyVersion.Document)
		if dec, err := url.QueryUnescape(raw); err == nil {
			raw = dec
		}
		var doc any
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			return nil, fmt.Errorf("standin: policy %s is not JSON: %w", aws.ToString(ap.PolicyArn), err)
		}
		docs[aws.ToString(ap.PolicyName)] = doc
	}
	p.mu.Lock()
	p.cache[roleARN] = iamEntry{at: time.Now(), docs: docs}
	p.mu.Unlock()
	return docs, nil
}
