package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/revocation"
	"github.com/s3vend/s3vend/internal/usage"
)

// denyWindow is how long a revoked identity stays in the IAM deny: the
// longest token (GetOpenIdTokenForDeveloperIdentity TokenDuration, at most
// 24 h) plus the longest credentials bought with it (a role session of at
// most 12 h), whatever the environment configures.
const denyWindow = contract.MaxTokenDuration + contract.MaxCredentialLifetime

const adminUsage = `s3vend admin - revoke users and inspect usage (operator AWS credentials; docs/abuse-control.md)

  s3vend admin revoke   --stack S3Vend-<env> (--user <provider>:<user id> | --identity <id>) [--reason TEXT] [--delete-objects]
  s3vend admin unrevoke --stack S3Vend-<env> (--user … | --identity …) [--reason TEXT]
  s3vend admin revoked  --stack S3Vend-<env> [--all] [--prune]
  s3vend admin usage    --stack S3Vend-<env> (--user … | --identity …)

Exit codes: 0 ok, 1 AWS error, 2 usage or missing stack output, 3 IAM deny full (the revocation is recorded; see the message).
`

// identityIDPattern and maxIdentityIDLen are Cognito's IdentityId: "Length
// Constraints: Minimum length of 1. Maximum length of 55. Pattern:
// [\w-]+:[0-9a-f-]+" (Amazon Cognito Federated Identities API reference,
// https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_LookupDeveloperIdentity.html).
var identityIDPattern = regexp.MustCompile(`^[\w-]+:[0-9a-f-]+$`)

const maxIdentityIDLen = 55

type adminFlags struct {
	stack, outputs, user, identity, reason string
	deleteObjects, all, prune              bool
}

func adminCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("admin: missing subcommand (revoke, unrevoke, revoked, usage; s3vend admin help)")
	}
	sub, rest := args[0], args[1:]
	var f adminFlags
	fs := flag.NewFlagSet("admin "+sub, flag.ContinueOnError)
	fs.StringVar(&f.stack, "stack", os.Getenv(envStack), "`stack` of the environment, e.g. S3Vend-prod (required)")
	fs.StringVar(&f.outputs, "outputs", os.Getenv(envOutputs), "cdk deploy --outputs-file `file`; empty reads the stack's outputs with DescribeStacks")
	switch sub {
	case "revoke", "unrevoke", "usage":
		fs.StringVar(&f.user, "user", "", "the login, `provider:user-id` as the vendor names it (verifier name, then the verified id)")
		fs.StringVar(&f.identity, "identity", "", "a Cognito identity `id`, <region>:<uuid>")
		if sub != "usage" {
			fs.StringVar(&f.reason, "reason", "", "why (recorded in the audit trail)")
		}
		if sub == "revoke" {
			fs.BoolVar(&f.deleteObjects, "delete-objects", false, "also delete the user's objects under the access rules that key objects by their owner (private/ and protected/ by default; default: keep them as evidence)")
		}
	case "revoked":
		fs.BoolVar(&f.all, "all", false, "list restored subjects too")
		fs.BoolVar(&f.prune, "prune", false, "rewrite the IAM deny from the table, dropping identities whose deny window has ended")
	case "help", "-h", "--help":
		fmt.Fprint(stdout, adminUsage)
		return nil
	default:
		return usageErrorf("admin: unknown subcommand %q (revoke, unrevoke, revoked, usage)", sub)
	}
	if err := parseFlags(fs, rest, stdout); err != nil {
		return err
	}
	if f.stack == "" {
		return usageErrorf("admin %s: --stack is required, e.g. --stack S3Vend-prod", sub)
	}
	if sub != "revoked" && (f.user == "") == (f.identity == "") {
		return usageErrorf("admin %s: give exactly one of --user <provider>:<user id> or --identity <region>:<uuid>", sub)
	}
	if f.identity != "" && (len(f.identity) > maxIdentityIDLen || !identityIDPattern.MatchString(f.identity)) {
		return usageErrorf("admin %s: --identity %q is not a Cognito identity id: <region>:<uuid>, e.g. eu-west-1:1b2c3d4e-0000-4000-8000-000000000000", sub, f.identity)
	}
	if f.user != "" && !strings.Contains(f.user, ":") {
		return usageErrorf("admin %s: --user %q must be <provider>:<user id>, e.g. backend:alice (the vendor's verifier name first)", sub, f.user)
	}
	a, err := newAdmin(ctx, f)
	if err != nil {
		return err
	}
	switch sub {
	case "revoke":
		return a.revoke(ctx, f, stdout)
	case "unrevoke":
		return a.unrevoke(ctx, f, stdout)
	case "revoked":
		return a.revoked(ctx, f, stdout)
	default:
		return a.usage(ctx, f, stdout)
	}
}

// admin holds the clients of one stack's resources, found in its outputs.
type admin struct {
	stack    string
	out      map[string]string
	rules    contract.Rules // the stack's layout (AccessRules output), for --delete-objects
	cfg      aws.Config
	store    *revocation.Store
	cognito  *cognitoidentity.Client
	iam      *iam.Client
	now      func() time.Time
	subKey   string   // the partition's <prefix>:sub condition key
	roleArns []string // the pool's roles
	// policyARN is the ARN prefix of the deny policies, in the roles'
	// partition and account: arn:<partition>:iam::<account>:policy.
	policyARN string
}

func newAdmin(ctx context.Context, f adminFlags) (*admin, error) {
	sf := smokeFlags{stack: f.stack, outputs: f.outputs}
	o, err := sf.loadOutputs(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"Region", "IdentityPoolId", "DeveloperProviderName", "AuthenticatedRoleArn", "RevocationsTableName"} {
		if o.All[k] == "" {
			return nil, setupErrorf("admin: stack %s has no %s output: deploy the current s3vend version (make deploy STACK=%s)", f.stack, k, f.stack)
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.All["Region"]))
	if err != nil {
		return nil, setupErrorf("admin: AWS configuration: %v", err)
	}
	p, err := contract.PartitionFor(o.All["Region"])
	if err != nil {
		return nil, setupErrorf("admin: %v", err)
	}
	role, err := arn.Parse(o.All["AuthenticatedRoleArn"])
	if err != nil {
		return nil, setupErrorf("admin: stack %s output AuthenticatedRoleArn: %v", f.stack, err)
	}
	rules, err := o.Rules() // checked by loadOutputs
	if err != nil {
		return nil, setupErrorf("admin: %v", err)
	}
	a := &admin{
		stack: f.stack, out: o.All, rules: rules, cfg: cfg, now: time.Now,
		policyARN: arn.ARN{Partition: role.Partition, Service: "iam", AccountID: role.AccountID, Resource: "policy"}.String(),
		store:     &revocation.Store{DB: dynamodb.NewFromConfig(cfg), Table: o.All["RevocationsTableName"]},
		cognito:   cognitoidentity.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg),
		subKey:   p.Principal.Key("sub"),
		roleArns: []string{o.All["AuthenticatedRoleArn"]},
	}
	if r := o.All["UnauthenticatedRoleArn"]; r != "" {
		a.roleArns = append(a.roleArns, r)
	}
	return a, nil
}

// subject resolves --user/--identity to the record's subject, the login
// (if any) and the identity ids, with LookupDeveloperIdentity.
func (a *admin) subject(ctx context.Context, f adminFlags) (subject, user string, ids []string, err error) {
	in := &cognitoidentity.LookupDeveloperIdentityInput{IdentityPoolId: aws.String(a.out["IdentityPoolId"]), MaxResults: aws.Int32(60)}
	if f.user != "" {
		in.DeveloperUserIdentifier = aws.String(f.user)
	} else {
		in.IdentityId = aws.String(f.identity)
	}
	res, err := a.cognito.LookupDeveloperIdentity(ctx, in)
	switch {
	case hasErrorCode(err, "ResourceNotFoundException"):
		// A login that never signed in, or an identity of no login (a guest).
	case err != nil:
		return "", "", nil, fmt.Errorf("LookupDeveloperIdentity: %w", err)
	default:
		if id := aws.ToString(res.IdentityId); id != "" {
			ids = append(ids, id)
		}
		if f.identity != "" && len(res.DeveloperUserIdentifierList) > 0 {
			user = res.DeveloperUserIdentifierList[0]
		}
	}
	if f.user != "" {
		user = f.user
	}
	if f.identity != "" && user == "" {
		// Revoking unlinked the login from its identity, so Cognito no
		// longer names it: the record of a revoked login that holds the
		// identity does (unrevoke --identity, revoke again).
		list, err := a.store.List(ctx, false)
		if err != nil {
			return "", "", nil, err
		}
		for _, r := range list {
			if r.User() != "" && slices.Contains(r.IdentityIDs, f.identity) {
				user = r.User()
				ids = append(ids, r.IdentityIDs...)
				break
			}
		}
	}
	if f.identity != "" && !slices.Contains(ids, f.identity) {
		ids = append(ids, f.identity)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if user != "" {
		// Revoking an identity revokes its login too: otherwise the next
		// sign-in would get a fresh identity that nothing names.
		return revocation.UserPrefix + user, user, ids, nil
	}
	return revocation.IdentityPrefix + f.identity, "", ids, nil
}

func (a *admin) caller(ctx context.Context) string {
	res, err := sts.NewFromConfig(a.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "(unknown caller)"
	}
	return aws.ToString(res.Arn)
}

// revoke: record (the vendor refuses within its refresh interval), deny
// the identities' credentials in IAM, unlink the login from its identity,
// optionally delete its objects, count it.
func (a *admin) revoke(ctx context.Context, f adminFlags, stdout io.Writer) error {
	subject, user, ids, err := a.subject(ctx, f)
	if err != nil {
		return err
	}
	now := a.now()
	rec := revocation.Record{Subject: subject, IdentityIDs: ids, Reason: f.reason, By: a.caller(ctx), At: now, DenyUntil: now.Add(denyWindow)}
	if err := a.store.Revoke(ctx, rec); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recorded: %s revoked (the vendor refuses it within %s on every instance)\n", subject, contract.MaxRevocationRefresh)
	denyErr := a.syncDeny(ctx)
	if denyErr == nil {
		fmt.Fprintf(stdout, "IAM deny: %d identities' credentials denied until %s (IAM applies it within seconds)\n", len(ids), rec.DenyUntil.UTC().Format(time.RFC3339))
	}
	for _, id := range ids {
		if user == "" {
			continue
		}
		_, err := a.cognito.UnlinkDeveloperIdentity(ctx, &cognitoidentity.UnlinkDeveloperIdentityInput{
			IdentityId: aws.String(id), IdentityPoolId: aws.String(a.out["IdentityPoolId"]),
			DeveloperProviderName: aws.String(a.out["DeveloperProviderName"]), DeveloperUserIdentifier: aws.String(user),
		})
		if err != nil {
			return fmt.Errorf("UnlinkDeveloperIdentity: %w", err)
		}
		fmt.Fprintf(stdout, "Cognito: %s unlinked from %s (its open tokens buy no credentials)\n", user, id)
	}
	if f.deleteObjects {
		if err := a.deleteObjects(ctx, user, ids, stdout); err != nil {
			return err
		}
	}
	a.count(ctx, 1, stdout)
	return denyErr
}

func (a *admin) unrevoke(ctx context.Context, f adminFlags, stdout io.Writer) error {
	subject, _, _, err := a.subject(ctx, f)
	if err != nil {
		return err
	}
	old, err := a.store.Unrevoke(ctx, subject, a.caller(ctx), f.reason)
	if errors.Is(err, revocation.ErrNotRevoked) {
		return usageErrorf("admin unrevoke: %s is not revoked ('s3vend admin revoked' lists who is)", subject)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recorded: %s restored (the vendor serves it again within %s)\n", subject, contract.MaxRevocationRefresh)
	if err := a.syncDeny(ctx); err != nil {
		return err
	}
	if user := old.User(); user != "" {
		for _, id := range old.IdentityIDs {
			// Link the login back to its identity, so the user finds their
			// private/<id>/ objects again (GetOpenIdTokenForDeveloperIdentity:
			// "When you want to associate a new DeveloperUserIdentifier with
			// an existing identity, the IdentityId should be the identity id").
			_, err := a.cognito.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
				IdentityPoolId: aws.String(a.out["IdentityPoolId"]), IdentityId: aws.String(id),
				Logins: map[string]string{a.out["DeveloperProviderName"]: user}, TokenDuration: aws.Int64(60),
			})
			if err != nil {
				fmt.Fprintf(stdout, "Cognito: could not link %s back to %s (%v); the next sign-in gets a new identity\n", user, id, errorCode(err))
				continue
			}
			fmt.Fprintf(stdout, "Cognito: %s linked back to %s\n", user, id)
		}
	}
	a.count(ctx, 0, stdout)
	return nil
}

func (a *admin) revoked(ctx context.Context, f adminFlags, stdout io.Writer) error {
	list, err := a.store.List(ctx, f.all)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-60s %-9s %-20s %-20s %s\n", "SUBJECT", "STATUS", "AT", "DENY UNTIL", "REASON")
	for _, r := range list {
		fmt.Fprintf(stdout, "%-60s %-9s %-20s %-20s %s\n", r.Subject, r.Status, r.At.UTC().Format(time.RFC3339),
			r.DenyUntil.UTC().Format(time.RFC3339), r.Reason)
	}
	if f.prune {
		return a.syncDeny(ctx)
	}
	return nil
}

func (a *admin) usage(ctx context.Context, f adminFlags, stdout io.Writer) error {
	table := a.out["UsageTableName"]
	if table == "" {
		return setupErrorf("admin usage: stack %s has no userQuota (no UsageTableName output); set userQuota in cdk.json and deploy", a.stack)
	}
	_, _, ids, err := a.subject(ctx, f)
	if err != nil {
		return err
	}
	st := &usage.Store{DB: a.store.DB, Table: table} // the same account and region: one DynamoDB client
	fmt.Fprintf(stdout, "%-50s %15s %10s  %s\n", "IDENTITY", "BYTES", "OBJECTS", "LIMIT")
	for _, id := range ids {
		t, err := st.Usage(ctx, id, true)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-50s %15d %10d  %s bytes, %s objects\n", id, t.Bytes, t.Objects, orNone(a.out[contract.OutputUserQuotaMaxBytes]), orNone(a.out[contract.OutputUserQuotaMaxObjects]))
	}
	return nil
}

func orNone(s string) string {
	if s == "" || s == "0" {
		return "no limit"
	}
	return s
}

// syncDeny rewrites the deny policies from the table: every revoked
// subject's identities whose DenyUntil has not passed.
func (a *admin) syncDeny(ctx context.Context) error {
	list, err := a.store.List(ctx, false)
	if err != nil {
		return err
	}
	now := a.now()
	// Oldest revocation first: beyond capacity the newest are left out, as
	// the capacity error says.
	slices.SortStableFunc(list, func(x, y revocation.Record) int { return x.At.Compare(y.At) })
	var ids []string
	for _, r := range list {
		if r.DenyUntil.After(now) {
			ids = append(ids, r.IdentityIDs...)
		}
	}
	docs, capErr := denyDocuments(a.subKey, ids)
	var full *capacityError
	switch {
	case errors.As(capErr, &full):
		docs = docs[:maxDenyPolicies] // deny as many as fit, the oldest revocations first
	case capErr != nil:
		return capErr
	}
	path := contract.RevocationPolicyPath + a.stack + "/"
	for i := range maxDenyPolicies {
		name := fmt.Sprintf("%s-revoked-%d", a.stack, i)
		arn := a.policyARN + path + name
		if i < len(docs) {
			if err := a.putPolicy(ctx, path, name, arn, docs[i]); err != nil {
				return err
			}
			continue
		}
		if err := a.dropPolicy(ctx, arn); err != nil {
			return err
		}
	}
	return capErr
}

func (a *admin) putPolicy(ctx context.Context, path, name, arn, doc string) error {
	_, err := a.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	switch {
	case hasErrorCode(err, "NoSuchEntity"):
		if _, err := a.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{
			PolicyName: aws.String(name), Path: aws.String(path), PolicyDocument: aws.String(doc),
			Description: aws.String("s3vend: credentials of identities revoked with s3vend admin revoke (managed by the CLI, not CloudFormation)"),
		}); err != nil {
			return fmt.Errorf("CreatePolicy: %w", err)
		}
	case err != nil:
		return fmt.Errorf("GetPolicy: %w", err)
	default:
		// At most 5 versions per managed policy: drop the oldest
		// non-default one before adding the new default.
		vs, err := a.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("ListPolicyVersions: %w", err)
		}
		if len(vs.Versions) >= 5 {
			oldest := vs.Versions[0]
			for _, v := range vs.Versions {
				if !v.IsDefaultVersion && (oldest.IsDefaultVersion || aws.ToTime(v.CreateDate).Before(aws.ToTime(oldest.CreateDate))) {
					oldest = v
				}
			}
			if _, err := a.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: oldest.VersionId}); err != nil {
				return fmt.Errorf("DeletePolicyVersion: %w", err)
			}
		}
		if _, err := a.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{
			PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc), SetAsDefault: true,
		}); err != nil {
			return fmt.Errorf("CreatePolicyVersion: %w", err)
		}
	}
	for _, role := range a.roleArns {
		if _, err := a.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(roleName(role)), PolicyArn: aws.String(arn)}); err != nil {
			return fmt.Errorf("AttachRolePolicy: %w", err)
		}
	}
	return nil
}

// dropPolicy detaches and deletes a deny policy that is no longer needed,
// so that no out-of-band attachment blocks deleting the role.
func (a *admin) dropPolicy(ctx context.Context, arn string) error {
	_, err := a.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if hasErrorCode(err, "NoSuchEntity") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("GetPolicy: %w", err)
	}
	for _, role := range a.roleArns {
		_, err := a.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(roleName(role)), PolicyArn: aws.String(arn)})
		if err != nil && !hasErrorCode(err, "NoSuchEntity") {
			return fmt.Errorf("DetachRolePolicy: %w", err)
		}
	}
	vs, err := a.iam.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("ListPolicyVersions: %w", err)
	}
	for _, v := range vs.Versions {
		if !v.IsDefaultVersion {
			if _, err := a.iam.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: v.VersionId}); err != nil {
				return fmt.Errorf("DeletePolicyVersion: %w", err)
			}
		}
	}
	if _, err := a.iam.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		return fmt.Errorf("DeletePolicy: %w", err)
	}
	return nil
}

// hasErrorCode reports whether err is an AWS API error with code.
func hasErrorCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}

func roleName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// deleteObjects deletes the revoked user's objects: under every owned
// access rule (contract.Rule.Owned: private/<id>/ and protected/<id>/ in
// the default layout; avatars/<user id>/ or members/<any tenant>/<user
// id>/ in a custom one), at each of the user's identity ids and the login's
// user id (the {userId} session tag value of user, "<verifier>:<id>").
// Rules whose objects a tenant or every user shares are left, and said.
func (a *admin) deleteObjects(ctx context.Context, user string, ids []string, stdout io.Writer) error {
	values, err := ownerValues(user, ids)
	if err != nil {
		return err
	}
	s3c := s3.NewFromConfig(a.cfg)
	n := 0
	var unreached []string
	for _, rule := range a.rules {
		if !rule.Owned() {
			continue
		}
		// One listing per prefix: the identities of one login share the
		// prefix of a {userId} rule, and every value the prefix of one
		// with {tenant} first.
		var prefixes []string
		matches := map[string][]func(string) bool{}
		for _, v := range values {
			if prefix, match, ok := rule.OwnedBy(v); ok {
				if matches[prefix] == nil {
					prefixes = append(prefixes, prefix)
				}
				matches[prefix] = append(matches[prefix], match)
			}
		}
		if len(prefixes) == 0 {
			unreached = append(unreached, rule.Name)
		}
		for _, prefix := range prefixes {
			deleted, err := a.deleteUnder(ctx, s3c, prefix, func(key string) bool {
				return slices.ContainsFunc(matches[prefix], func(m func(string) bool) bool { return m(key) })
			})
			n += deleted
			if err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "S3: %d objects deleted\n", n)
	if len(unreached) > 0 {
		fmt.Fprintf(stdout, "S3: not searched under rules %s: they key objects by a user id, and this revocation names no login (revoke with --user)\n", strings.Join(unreached, ", "))
	}
	if shared := a.rules.SharedWritable(); len(shared) > 0 {
		fmt.Fprintf(stdout, "S3: objects under rules %s are kept: a tenant or every user shares them, not one user\n", strings.Join(shared, ", "))
	}
	return nil
}

// deleteUnder deletes the keys under prefix that match, and counts them.
func (a *admin) deleteUnder(ctx context.Context, s3c *s3.Client, prefix string, match func(string) bool) (int, error) {
	bucket := a.out["BucketName"]
	n := 0
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("ListObjectsV2 %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			if !match(aws.ToString(o.Key)) {
				continue
			}
			if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}); err != nil {
				return n, fmt.Errorf("DeleteObject %s: %w", url.PathEscape(aws.ToString(o.Key)), err)
			}
			n++
		}
	}
	return n, nil
}

// ownerValues are the key values a revoked subject's objects are under:
// one per identity id, each with the login's user id tag value.
func ownerValues(user string, ids []string) ([]contract.KeyValues, error) {
	var userID string
	if user != "" {
		verifier, id, ok := strings.Cut(user, ":")
		if !ok {
			return nil, fmt.Errorf("admin: login %q is not <verifier>:<user id>", user)
		}
		var err error
		if userID, err = contract.UserTagValue(verifier, id); err != nil {
			return nil, fmt.Errorf("admin: login %q: %w", user, err)
		}
	}
	if len(ids) == 0 {
		return []contract.KeyValues{{UserID: userID}}, nil
	}
	out := make([]contract.KeyValues, len(ids))
	for i, id := range ids {
		out[i] = contract.KeyValues{IdentityID: id, UserID: userID}
	}
	return out, nil
}

// count emits the Revocations metric (1 per revoke, 0 per unrevoke); a
// failure is not fatal (the table is the record), but it is said.
func (a *admin) count(ctx context.Context, v float64, stdout io.Writer) {
	_, err := cloudwatch.NewFromConfig(a.cfg).PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(contract.MetricNamespace),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String(contract.MetricRevocations), Value: aws.Float64(v), Unit: cwtypes.StandardUnitCount,
			Dimensions: []cwtypes.Dimension{{Name: aws.String(contract.DimStack), Value: aws.String(a.stack)}},
		}},
	})
	if err != nil {
		fmt.Fprintf(stdout, "CloudWatch: not counted in the %s metric (%s); the table holds the record\n", contract.MetricRevocations, errorCode(err))
	}
}
