package standin

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Operator stands for what a team member who deployed the stack reaches with
// their own AWS credentials: CloudFormation DescribeStacks of the stack (its
// outputs) and Secrets Manager GetSecretValue of the verifier secret. Both
// answer only requests SigV4-signed with the operator's key (AccessKeyID,
// SecretAccessKey); anything else is refused as AWS refuses it.
//
// CloudFormation facts followed (API reference, DescribeStacks,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html):
// query protocol (form POST, Action=DescribeStacks, Version=2010-05-15, XML
// result in the 2010-05-15 namespace); a stack that does not exist is 400
// ValidationError "Stack with id <name> does not exist". Secrets Manager
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html):
// JSON 1.1, X-Amz-Target secretsmanager.GetSecretValue; an unknown secret is
// 400 ResourceNotFoundException, a caller without permission 400
// AccessDeniedException.
type Operator struct {
	StackName, SecretARN                 string
	AccessKeyID, SecretAccessKey         string
	CloudFormationURL, SecretsManagerURL string

	stack   *Stack
	servers []*Server
}

// StartOperator serves DescribeStacks of stackName (the stack's Outputs,
// with VerifierSecretArn a Secrets Manager ARN) and GetSecretValue of that
// ARN (the stack's secrets file).
func (s *Stack) StartOperator(stackName string) (_ *Operator, err error) {
	o := &Operator{
		StackName: stackName, stack: s,
		SecretARN: fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-verifier-%s", s.Partition, s.Region, s.Model.Account(), stackName, randomHex(3)),
	}
	sess := Session{AccessKeyID: "AKIA" + strings.ToUpper(randomHex(8)), SecretAccessKey: randomHex(20)}
	s.Sessions.Put(sess)
	o.AccessKeyID, o.SecretAccessKey = sess.AccessKeyID, sess.SecretAccessKey
	defer func() {
		if err != nil {
			_ = o.Close()
		}
	}()
	for _, svc := range []struct {
		h   http.Handler
		url *string
	}{{http.HandlerFunc(o.cloudFormation), &o.CloudFormationURL}, {http.HandlerFunc(o.secretsManager), &o.SecretsManagerURL}} {
		srv, err := ServeTLS(svc.h, s.ca)
		if err != nil {
			return nil, err
		}
		o.servers = append(o.servers, srv)
		*svc.url = srv.URL
	}
	return o, nil
}

// Env is the operator's environment: the standard endpoint settings and
// static keys (add Stack.ClientEnv for the CA and the other services).
func (o *Operator) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_CLOUDFORMATION=" + o.CloudFormationURL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + o.SecretsManagerURL,
		"AWS_ACCESS_KEY_ID=" + o.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + o.SecretAccessKey,
	}
}

// Close stops the two servers.
func (o *Operator) Close() error {
	var errs []error
	for _, srv := range o.servers {
		errs = append(errs, srv.Close())
	}
	return errors.Join(errs...)
}

// authorize: only the operator's key, signed for service in the stack's region.
func (o *Operator) authorize(r *http.Request, service string) ([]byte, *AWSError) {
	verify := VerifySigV4 // JSON services' error codes (InvalidSignatureException, ...)
	if service == "cloudformation" {
		verify = verifySigV4 // a query-protocol service answers SignatureDoesNotMatch, as STS does
	}
	sess, anonymous, body, e := verify(r, service, o.stack.Region, o.stack.Sessions, time.Now())
	if e != nil {
		return nil, e
	}
	defer body.Close()
	if anonymous || sess.AccessKeyID != o.AccessKeyID {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(body, maxJSONBody))
	if err != nil {
		return nil, &AWSError{http.StatusBadRequest, "MalformedInput", "the request body could not be read"}
	}
	return b, nil
}

const cfnNamespace = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

type cfnOutput struct {
	Key   string `xml:"OutputKey"`
	Value string `xml:"OutputValue"`
}

type cfnStack struct {
	StackName    string      `xml:"StackName"`
	StackID      string      `xml:"StackId"`
	StackStatus  string      `xml:"StackStatus"`
	CreationTime string      `xml:"CreationTime"`
	Outputs      []cfnOutput `xml:"Outputs>member"`
}

type cfnDescribeStacksResponse struct {
	XMLName   xml.Name   `xml:"DescribeStacksResponse"`
	Xmlns     string     `xml:"xmlns,attr"`
	Stacks    []cfnStack `xml:"DescribeStacksResult>Stacks>member"`
	RequestID string     `xml:"ResponseMetadata>RequestId"`
}

func (o *Operator) cloudFormation(w http.ResponseWriter, r *http.Request) {
	body, e := o.authorize(r, "cloudformation")
	if e == nil && body == nil {
		e = &AWSError{http.StatusForbidden, "AccessDenied", "User is not authorized to perform: cloudformation:DescribeStacks"}
	}
	if e != nil {
		writeCFNError(w, e)
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeCFNError(w, &AWSError{http.StatusBadRequest, "InvalidAction", "CloudFormation query requests are form-encoded POSTs"})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeCFNError(w, &AWSError{http.StatusBadRequest, "MalformedInput", "the request body is not a valid form"})
		return
	}
	f := form
	if f.Get("Action") != "DescribeStacks" || f.Get("Version") != "2010-05-15" {
		writeCFNError(w, &AWSError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", f.Get("Action"), f.Get("Version"))})
		return
	}
	name := f.Get("StackName")
	if name == "" {
		writeCFNError(w, &AWSError{http.StatusBadRequest, "ValidationError", "the stand-in lists only a named stack: set StackName"})
		return
	}
	if name != o.StackName {
		writeCFNError(w, &AWSError{http.StatusBadRequest, "ValidationError", "Stack with id " + name + " does not exist"})
		return
	}
	outs := o.stack.Outputs()
	if _, ok := outs["VerifierSecretArn"]; ok {
		outs["VerifierSecretArn"] = o.SecretARN
	}
	st := cfnStack{
		StackName: name, StackStatus: "CREATE_COMPLETE", CreationTime: time.Now().UTC().Format(time.RFC3339),
		StackID: fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/%s", o.stack.Partition, o.stack.Region, o.stack.Model.Account(), name, requestIDString()),
	}
	for _, k := range slices.Sorted(maps.Keys(outs)) {
		st.Outputs = append(st.Outputs, cfnOutput{k, outs[k]})
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(cfnDescribeStacksResponse{Xmlns: cfnNamespace, Stacks: []cfnStack{st}, RequestID: requestIDString()})
}

func writeCFNError(w http.ResponseWriter, e *AWSError) { writeQueryError(w, cfnNamespace, e) }

func (o *Operator) secretsManager(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", requestIDString())
	body, e := o.authorize(r, "secretsmanager")
	if e == nil && body == nil {
		e = &AWSError{http.StatusBadRequest, "AccessDeniedException", "User is not authorized to perform: secretsmanager:GetSecretValue"}
	}
	if e != nil {
		writeJSONError(w, e)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		writeJSONError(w, &AWSError{http.StatusBadRequest, "UnknownOperationException", "the stand-in implements only secretsmanager.GetSecretValue"})
		return
	}
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if e := decodeJSON(strings.NewReader(string(body)), &in); e != nil {
		writeJSONError(w, e)
		return
	}
	if in.SecretID != o.SecretARN || in.VersionID != "" || (in.VersionStage != "" && in.VersionStage != "AWSCURRENT") {
		writeJSONError(w, &AWSError{http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."})
		return
	}
	secret, err := os.ReadFile(o.stack.SecretsFile)
	if err != nil {
		writeJSONError(w, &AWSError{http.StatusInternalServerError, "InternalServiceError", "the stand-in cannot read its secrets file"})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": o.SecretARN, "Name": o.SecretARN[strings.LastIndex(o.SecretARN, ":")+1:],
		"SecretString": string(secret), "VersionId": "00000000-0000-4000-8000-000000000001",
		"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": time.Now().Unix(),
	})
}

// PutOperator registers sess as an operator's IAM user of the stack's
// account with the template's operator policy (the OperatorPolicyArn
// output, what `s3vend admin` is documented to need) as its only identity
// policy: S3 then authorizes the operator's requests with that policy and
// the bucket policy, as AWS would for a user the team attached it to (so
// `s3vend admin revoke --delete-objects` works on private/ and protected/
// and nowhere else).
func (s *Stack) PutOperator(sess Session) error {
	outputs, _ := s.Model.Template()["Outputs"].(map[string]any)
	out, _ := outputs["OperatorPolicyArn"].(map[string]any)
	ref, _ := out["Value"].(map[string]any)
	id, _ := ref["Ref"].(string)
	resources, _ := s.Model.Template()["Resources"].(map[string]any)
	res, _ := resources[id].(map[string]any)
	props, _ := res["Properties"].(map[string]any)
	if res["Type"] != "AWS::IAM::ManagedPolicy" || props["PolicyDocument"] == nil {
		return errors.New("standin: the template has no OperatorPolicyArn output naming a managed policy")
	}
	// Only statements that can match an S3 or a CloudWatch action decide a
	// request to a stand-in that authorizes with them (S3, CloudWatch); the
	// others name resources (tables, the stack id) the model does not
	// resolve, and are left out.
	src, _ := props["PolicyDocument"].(map[string]any)
	statements, _ := src["Statement"].([]any)
	var kept []any
	for _, st := range statements {
		m, _ := st.(map[string]any)
		if _, ok := m["NotAction"]; ok || namesService(m["Action"], "s3:", "cloudwatch:") {
			kept = append(kept, st)
		}
	}
	doc, err := s.Model.Resolve(map[string]any{"Version": src["Version"], "Statement": kept})
	if err != nil {
		return fmt.Errorf("standin: resolving the operator policy %s: %w", id, err)
	}
	sess.RoleARN = ""
	sess.Principal = fmt.Sprintf("arn:%s:iam::%s:user/operator", s.Partition, s.Model.Account())
	sess.Policies = map[string]any{id: doc}
	s.Sessions.Put(sess)
	return nil
}

// namesService reports whether a statement's Action (a string or a list)
// names an action of one of the services (by prefix, such as "s3:") or a
// wildcard that matches one.
func namesService(action any, prefixes ...string) bool {
	var actions []any
	switch a := action.(type) {
	case string:
		actions = []any{a}
	case []any:
		actions = a
	}
	for _, a := range actions {
		str, _ := a.(string)
		if str == "*" || slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(strings.ToLower(str), p) }) {
			return true
		}
	}
	return false
}
