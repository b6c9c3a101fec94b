// Package smoke checks a deployed s3vend environment end to end, the way
// its clients use it: sign in (enhanced and basic flow, guests), then
// read and write S3 under the caller's prefixes and prove that what must be
// refused is refused. It is what `s3vend smoke` (make smoke) runs after a
// deploy; every check is a row of the result table. It cleans up what it
// wrote, also when a check fails.
//
// Every AWS call goes through aws-sdk-go-v2 with the standard settings
// (AWS_ENDPOINT_URL_S3, AWS_CA_BUNDLE, ...), so the same code runs against
// AWS (any partition) and against the local stand-ins in the tests.
package smoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/client"
	"github.com/s3vend/s3vend/contract"
)

// LoginFor returns the login of test user "a", "b" or "c": three distinct
// users, so that one can be refused the other's prefix; with a {tenant}
// rule, a and b share a tenant and c has another.
type LoginFor func(user string) client.LoginFunc

// Config is what a smoke run needs.
type Config struct {
	Outputs client.Outputs
	Login   LoginFor
	// PathStyle addresses S3 as <endpoint>/<bucket>/<key> (local stand-ins).
	PathStyle bool
	// PublicKey is an existing public/ object for the anonymous and guest
	// reads; "" uses the first object user a lists under public/.
	PublicKey string
	// HTTPClient for the vendor; nil is the client package's default.
	HTTPClient *http.Client
}

// Result is one row of the table.
type Result struct {
	Check  string
	Status Status
	Detail string // never a credential or token
}

// Status of a check.
type Status string

// Statuses.
const (
	Pass Status = "pass"
	Fail Status = "FAIL"
	Skip Status = "skip"
)

// Failed counts the failed rows.
func Failed(rs []Result) int {
	n := 0
	for _, r := range rs {
		if r.Status == Fail {
			n++
		}
	}
	return n
}

// Table renders the results as an aligned text table.
func Table(rs []Result) string {
	w := len("CHECK")
	for _, r := range rs {
		w = max(w, len(r.Check))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s  %-6s %s\n", w, "CHECK", "RESULT", "DETAIL")
	for _, r := range rs {
		fmt.Fprintf(&b, "%-*s  %-6s %s\n", w, r.Check, r.Status, r.Detail)
	}
	return b.String()
}

// run holds the state of one smoke run.
type run struct {
	cfg     Config
	results []Result
	s3s     map[string]*s3.Client // by identity label
	written map[string]string     // key -> label of the writer, for clean-up
	ids     map[string]string     // label -> identity id
	who     map[string]client.Identity
	rules   contract.Rules
	tag     string
	// publicKey is a public/ object to read (Config.PublicKey or found).
	publicKey string
}

// Run performs every check and returns the rows (the last is the clean-up).
func Run(ctx context.Context, cfg Config) (rs []Result) {
	r := &run{cfg: cfg, s3s: map[string]*s3.Client{}, written: map[string]string{}, ids: map[string]string{},
		who: map[string]client.Identity{}, tag: randomTag()}
	defer func() {
		// Clean up even when ctx ran out or a check panicked.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		r.cleanup(cctx)
		rs = r.results
	}()
	rules, err := cfg.Outputs.Rules()
	if err != nil {
		r.add("access rules (AccessRules output)", err, "")
		return r.results
	}
	r.rules = rules
	r.signIn(ctx)
	if rules.JSON() == contract.DefaultRules().JSON() {
		r.ownPrefixes(ctx)
		r.otherIdentity(ctx)
		r.refusals(ctx)
		r.anonymous(ctx)
	} else {
		r.accessRules(ctx)
	}
	r.guest(ctx)
	return r.results
}

// add appends a row: a failure with err, else a pass with okDetail.
func (r *run) add(check string, err error, okDetail string) bool {
	if err != nil {
		r.results = append(r.results, Result{check, Fail, describe(err)})
		return false
	}
	r.results = append(r.results, Result{check, Pass, okDetail})
	return true
}

func (r *run) skip(check, why string) { r.results = append(r.results, Result{check, Skip, why}) }

func randomTag() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "s3vend-smoke-" + hex.EncodeToString(b)
}

// signIn gets user a's credentials in the enhanced flow ("a"), again in the
// basic flow ("a-basic"), and user b's in the enhanced flow ("b").
func (r *run) signIn(ctx context.Context) {
	id, err := r.connect(ctx, "a", client.FlowEnhanced, false)
	r.add("token + credentials (enhanced flow, user a)", err, "identity "+id)
	id, err = r.connect(ctx, "a-basic", client.FlowBasic, false)
	var ve *client.VendorError
	if errors.As(err, &ve) && ve.Code == "basic_flow_disabled" {
		r.skip("credentials (basic flow, user a)", "the pool does not allow the basic flow (basicFlow: false)")
	} else if r.add("credentials (basic flow, user a)", err, "identity "+id) && id != r.ids["a"] && r.ids["a"] != "" {
		r.results[len(r.results)-1] = Result{"credentials (basic flow, user a)", Fail, "identity " + id + " differs from the enhanced flow's " + r.ids["a"]}
	}
	id, err = r.connect(ctx, "b", client.FlowEnhanced, false)
	if err == nil && id == r.ids["a"] {
		err = fmt.Errorf("user b got user a's identity %s: the logins must be two different users", id)
	}
	r.add("token + credentials (enhanced flow, user b)", err, "identity "+id)
}

// connect retrieves credentials for label and builds its S3 client.
func (r *run) connect(ctx context.Context, label string, flow client.Flow, guest bool) (string, error) {
	user := strings.TrimSuffix(label, "-basic")
	var login client.LoginFunc
	if !guest {
		login = r.cfg.Login(user)
	}
	creds, err := client.New(r.cfg.Outputs.TokenEndpoint, login, func(o *client.Options) {
		o.Flow, o.Guest = flow, guest
		if r.cfg.HTTPClient != nil {
			o.HTTPClient = r.cfg.HTTPClient
		}
	})
	if err != nil {
		return "", err
	}
	if _, err := creds.Cache().Retrieve(ctx); err != nil {
		return "", err
	}
	who, err := creds.Identity(ctx)
	if err != nil {
		return "", err
	}
	c, err := r.s3Client(ctx, creds.Cache())
	if err != nil {
		return "", err
	}
	r.ids[label], r.s3s[label], r.who[label] = who.IdentityID, c, who
	return who.IdentityID, nil
}

func (r *run) s3Client(ctx context.Context, creds aws.CredentialsProvider) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(r.cfg.Outputs.Region), config.WithCredentialsProvider(creds))
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = r.cfg.PathStyle
		// Small objects written without a full-object checksum: the SDK
		// would log that it skips validating them, on stderr.
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

func (r *run) key(prefix, label string) string {
	return prefix + r.ids[label] + "/" + r.tag + ".txt"
}

// ownPrefixes: put/get/delete under private/<a>/ and protected/<a>/, and
// the same with the basic flow's credentials.
func (r *run) ownPrefixes(ctx context.Context) {
	for _, c := range []struct{ label, prefix string }{{"a", "private/"}, {"a", "protected/"}, {"a-basic", "private/"}} {
		check := fmt.Sprintf("put/get/delete %s<id>/ (%s)", c.prefix, c.label)
		if r.s3s[c.label] == nil {
			r.skip(check, "no credentials (see above)")
			continue
		}
		key := r.key(c.prefix, c.label)
		r.add(check, r.putGetDelete(ctx, c.label, key), key)
	}
}

func (r *run) putGetDelete(ctx context.Context, label, key string) error {
	c := r.s3s[label]
	body := []byte("s3vend smoke " + r.tag)
	if err := r.put(ctx, label, key, body); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &r.cfg.Outputs.BucketName, Key: &key})
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if !bytes.Equal(got, body) {
		return fmt.Errorf("get: read %d bytes that differ from the %d written", len(got), len(body))
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &r.cfg.Outputs.BucketName, Key: &key}); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	delete(r.written, key)
	return nil
}

func (r *run) put(ctx context.Context, label, key string, body []byte) error {
	_, err := r.s3s[label].PutObject(ctx, &s3.PutObjectInput{Bucket: &r.cfg.Outputs.BucketName, Key: &key, Body: bytes.NewReader(body), ContentType: aws.String("text/plain")})
	if err == nil {
		r.written[key] = label
	}
	return err
}

// otherIdentity: b reads a's protected/ object, and is refused a's private/.
func (r *run) otherIdentity(ctx context.Context) {
	const readProt, readPriv, writePriv = "user b reads a's protected/ object", "user b refused reading a's private/", "user b refused writing a's private/"
	if r.s3s["a"] == nil || r.s3s["b"] == nil {
		for _, c := range []string{readProt, readPriv, writePriv} {
			r.skip(c, "needs users a and b (see above)")
		}
		return
	}
	body := []byte("s3vend smoke " + r.tag)
	prot, priv := r.key("protected/", "a"), r.key("private/", "a")
	if err := r.put(ctx, "a", prot, body); err != nil {
		r.add(readProt, fmt.Errorf("user a put %s: %w", prot, err), "")
	} else {
		r.add(readProt, r.get(ctx, "b", prot), prot)
	}
	if err := r.put(ctx, "a", priv, body); err != nil {
		r.add(readPriv, fmt.Errorf("user a put %s: %w", priv, err), "")
	} else {
		r.add(readPriv, refused(r.get(ctx, "b", priv)), priv+": AccessDenied")
	}
	other := "private/" + r.ids["a"] + "/" + r.tag + "-by-b.txt"
	err := r.put(ctx, "b", other, body)
	r.add(writePriv, refused(err), other+": AccessDenied")
}

func (r *run) get(ctx context.Context, label, key string) error {
	out, err := r.s3s[label].GetObject(ctx, &s3.GetObjectInput{Bucket: &r.cfg.Outputs.BucketName, Key: &key})
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, out.Body)
	out.Body.Close()
	return err
}

// refusals: writing public/ and listing outside the allowed prefixes.
func (r *run) refusals(ctx context.Context) {
	checks := []string{"user a refused writing public/", "user a refused listing private/", "user a refused listing the bucket root", "user a lists own private/<id>/"}
	if r.s3s["a"] == nil {
		for _, c := range checks {
			r.skip(c, "needs user a (see above)")
		}
		return
	}
	pub := "public/" + r.tag + ".txt"
	r.add(checks[0], refused(r.put(ctx, "a", pub, []byte("must be refused"))), pub+": AccessDenied")
	r.add(checks[1], refused(r.list(ctx, "a", "private/")), "prefix private/: AccessDenied")
	r.add(checks[2], refused(r.list(ctx, "a", "")), "no prefix: AccessDenied")
	own := "private/" + r.ids["a"] + "/"
	r.add(checks[3], r.list(ctx, "a", own), "prefix "+own)
}

func (r *run) list(ctx context.Context, label, prefix string) error {
	in := &s3.ListObjectsV2Input{Bucket: &r.cfg.Outputs.BucketName, MaxKeys: aws.Int32(1)}
	if prefix != "" {
		in.Prefix = &prefix
	}
	_, err := r.s3s[label].ListObjectsV2(ctx, in)
	return err
}

// anonymous: an unsigned GET of a public/ object must succeed, and of
// user a's private/ object be refused. The object must exist: S3 answers a
// GET of a missing key with 404 only to a caller who may s3:ListBucket, and
// with 403 AccessDenied to everyone else ("If you don't have the
// s3:ListBucket permission, Amazon S3 returns an HTTP status code 403
// Access Denied error", https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html),
// so a missing key cannot tell "anonymous read allowed" from "refused". The
// smoke check cannot write public/ (only the bucket owner can), so it reads
// an object that is there: --public-key, or the first key user a lists
// under public/ (signed-in users may list public/).
func (r *run) anonymous(ctx context.Context) {
	const readPub, readPriv = "anonymous reads public/", "anonymous refused reading private/"
	c, err := r.s3Client(ctx, aws.AnonymousCredentials{})
	if err != nil {
		r.add(readPub, err, "")
		return
	}
	r.s3s["anonymous"] = c
	r.publicKey = r.cfg.PublicKey
	if r.publicKey == "" && r.s3s["a"] != nil {
		out, err := r.s3s["a"].ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &r.cfg.Outputs.BucketName, Prefix: aws.String("public/"), MaxKeys: aws.Int32(1)})
		if err != nil {
			r.add(readPub, fmt.Errorf("user a listing public/ to find an object: %s", errCode(err, "")), "")
		} else if len(out.Contents) > 0 {
			r.publicKey = aws.ToString(out.Contents[0].Key)
		}
	}
	switch {
	case r.publicKey != "":
		r.add(readPub, r.get(ctx, "anonymous", r.publicKey), r.publicKey)
	case len(r.results) == 0 || r.results[len(r.results)-1].Check != readPub:
		r.skip(readPub, "public/ is empty: upload an object as the bucket owner (aws s3 cp f s3://"+r.cfg.Outputs.BucketName+"/public/f) or pass --public-key")
	}
	if priv := r.key("private/", "a"); r.written[priv] != "" {
		r.add(readPriv, refused(r.get(ctx, "anonymous", priv)), priv+": AccessDenied")
	} else {
		r.skip(readPriv, "no object of user a (see above)")
	}
}

// accessRules checks a custom layout (the AccessRules output) rule by rule,
// with user a's credentials of both flows: that session tags reach IAM in
// the enhanced flow (Cognito tags the session) and in the basic flow (STS
// takes them from the token's https://aws.amazon.com/tags claim), the facts
// contract/tags.go relies on. For each rule an owner may write: a writes,
// reads and deletes its own key, b is refused writing it, and an anonymous
// reader reads it when the rule lets anonymous get. For each rule a tenant
// may write: a writes its tenant's key, b (same tenant) reads it, c (another
// tenant) is refused reading and writing it.
func (r *run) accessRules(ctx context.Context) {
	tags := r.rules.SessionTagKeys()
	if len(tags) > 0 {
		const check = "vendor returns the user's key values (session tags)"
		switch who := r.who["a"]; {
		case r.s3s["a"] == nil:
			r.skip(check, "needs user a (see above)")
		case slices.Contains(tags, contract.TagUser) && who.UserID == "":
			r.add(check, errors.New("the token response has no userId although the rules use {userId}"), "")
		default:
			r.add(check, nil, "userId "+who.UserID+", tenant "+who.Tenant)
		}
	}
	if slices.ContainsFunc(r.rules, func(x contract.Rule) bool { return x.Uses(contract.PlaceholderTenant) }) {
		id, err := r.connect(ctx, "c", client.FlowEnhanced, false)
		r.add("token + credentials (enhanced flow, user c of another tenant)", err, "identity "+id)
	}
	for _, rule := range r.rules {
		if rule.Allows(contract.SubjectOwner, contract.ActionPut) {
			r.ownerRule(ctx, rule)
		}
		if rule.Allows(contract.SubjectTenant, contract.ActionPut) && rule.Uses(contract.PlaceholderTenant) {
			r.tenantRule(ctx, rule)
		}
	}
}

// ruleKey is label's key of rule, "" with a row skipped when it has none.
func (r *run) ruleKey(rule contract.Rule, owner, check string) (string, bool) {
	if r.s3s[owner] == nil {
		r.skip(check, "no credentials for user "+strings.TrimSuffix(owner, "-basic")+" (see above)")
		return "", false
	}
	key, err := client.Key(r.rules, rule.Name, r.who[owner], r.tag+".txt")
	if err != nil {
		r.skip(check, err.Error())
		return "", false
	}
	return key, true
}

func (r *run) ownerRule(ctx context.Context, rule contract.Rule) {
	for _, label := range []string{"a", "a-basic"} {
		check := fmt.Sprintf("put/get/delete own %s key (%s)", rule.Name, label)
		if key, ok := r.ruleKey(rule, label, check); ok {
			r.add(check, r.putGetDelete(ctx, label, key), key)
		}
	}
	check := fmt.Sprintf("user b refused writing a's %s key", rule.Name)
	key, ok := r.ruleKey(rule, "a", check)
	if !ok {
		return
	}
	if r.s3s["b"] == nil {
		r.skip(check, "needs user b (see above)")
	} else if rule.Allows(contract.SubjectTenant, contract.ActionPut) || rule.Allows(contract.SubjectAuthenticated, contract.ActionPut) {
		r.skip(check, "the rule lets others write it (tenant or authenticated put)")
	} else {
		r.add(check, refused(r.put(ctx, "b", key, []byte("must be refused"))), key+": AccessDenied")
	}
	if rule.Allows(contract.SubjectAnonymous, contract.ActionGet) {
		check := fmt.Sprintf("anonymous reads a's %s object", rule.Name)
		anon, err := r.s3Client(ctx, aws.AnonymousCredentials{})
		if err == nil {
			r.s3s["anonymous"] = anon
			if err = r.put(ctx, "a", key, []byte("s3vend smoke "+r.tag)); err == nil {
				err = r.get(ctx, "anonymous", key)
			}
		}
		r.add(check, err, key)
	}
}

func (r *run) tenantRule(ctx context.Context, rule contract.Rule) {
	write := fmt.Sprintf("user a writes its tenant's %s key", rule.Name)
	key, ok := r.ruleKey(rule, "a", write)
	if !ok {
		return
	}
	body := []byte("s3vend smoke " + r.tag)
	if !r.add(write, r.put(ctx, "a", key, body), key) {
		return
	}
	if rule.Allows(contract.SubjectTenant, contract.ActionGet) {
		read := fmt.Sprintf("user b (same tenant) reads a's %s object", rule.Name)
		if r.s3s["b"] == nil || r.who["b"].Tenant != r.who["a"].Tenant {
			r.skip(read, "users a and b must share a tenant (their logins' tenant claim)")
		} else {
			r.add(read, r.get(ctx, "b", key), key)
		}
	}
	other := fmt.Sprintf("user c (other tenant) refused reading and writing a's %s key", rule.Name)
	switch {
	case r.s3s["c"] == nil:
		r.skip(other, "no credentials for user c (see above)")
	case r.who["c"].Tenant == r.who["a"].Tenant:
		r.skip(other, "user c must have another tenant than a")
	default:
		err := refused(r.get(ctx, "c", key))
		if err == nil {
			err = refused(r.put(ctx, "c", key, []byte("must be refused")))
		}
		r.add(other, err, key+": AccessDenied")
	}
}

// guest: when the stack has guests, a guest reads public/ and cannot write.
func (r *run) guest(ctx context.Context) {
	checks := []string{"guest credentials", "guest reads public/", "guest refused writing private/<id>/"}
	if r.cfg.Outputs.All["UnauthenticatedRoleArn"] == "" {
		for _, c := range checks {
			r.skip(c, "guests are off (no UnauthenticatedRoleArn output)")
		}
		return
	}
	id, err := r.connect(ctx, "guest", client.FlowEnhanced, true)
	if !r.add(checks[0], err, "identity "+id) {
		r.skip(checks[1], "no guest credentials")
		r.skip(checks[2], "no guest credentials")
		return
	}
	if r.publicKey != "" {
		r.add(checks[1], r.get(ctx, "guest", r.publicKey), r.publicKey)
	} else {
		r.skip(checks[1], "no public/ object (see above)")
	}
	key := r.key("private/", "guest")
	r.add(checks[2], refused(r.put(ctx, "guest", key, []byte("must be refused"))), key+": AccessDenied")
}

// cleanup deletes everything still written, as its writer (user a's
// credentials can delete under private/<a>/ and protected/<a>/; a key that
// a widened policy let another identity write is deleted by that one).
func (r *run) cleanup(ctx context.Context) {
	var errs []string
	for _, key := range slices.Sorted(maps.Keys(r.written)) {
		_, err := r.s3s[r.written[key]].DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &r.cfg.Outputs.BucketName, Key: &key})
		if err != nil {
			errs = append(errs, key+": "+errCode(err, ""))
		}
	}
	if len(errs) > 0 {
		r.results = append(r.results, Result{"clean-up", Fail, "left behind: " + strings.Join(errs, "; ")})
		return
	}
	r.results = append(r.results, Result{"clean-up", Pass, fmt.Sprintf("nothing left behind (deleted %d)", len(r.written))})
}

// refused: err must be S3's AccessDenied.
func refused(err error) error {
	if err == nil {
		return errors.New("allowed, must be refused (AccessDenied)")
	}
	if code := errCode(err, ""); code != "AccessDenied" {
		return fmt.Errorf("want AccessDenied, got %s", code)
	}
	return nil
}

// errCode is the S3 error code, or a short description of a non-API error.
func errCode(err error, ok string) string {
	if err == nil {
		return ok
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return oneLine(err.Error())
}

// describe shortens an SDK error ("operation error S3: PutObject, https
// response error StatusCode: 403, RequestID: ..., api error AccessDenied:
// Access Denied") to "PutObject: AccessDenied (HTTP 403)", keeping any
// context wrapped around it.
func describe(err error) string {
	text := err.Error()
	var op *smithy.OperationError
	var api smithy.APIError
	if errors.As(err, &op) && errors.As(err, &api) {
		short := op.Operation() + ": " + api.ErrorCode()
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			short += fmt.Sprintf(" (HTTP %d)", re.HTTPStatusCode())
		}
		text = strings.Replace(text, op.Error(), short, 1)
	}
	return oneLine(text)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
