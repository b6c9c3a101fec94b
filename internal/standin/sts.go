package standin

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/accessmatrix"
)

// STS facts this stand-in follows (API reference, AssumeRoleWithWebIdentity,
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html):
//   - query protocol: form-encoded POST with Action and Version=2011-06-15;
//     XML results in the 2011-06-15 namespace; errors as
//     <ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error>.
//   - the call is unsigned (the Go SDK resolves the anonymous auth scheme:
//     service/sts/auth.go operationAuthOptions).
//   - RoleSessionName 2..64 chars of [\w+=,.@-]; DurationSeconds 900 up to the
//     role's MaxSessionDuration, default 3600.
//   - error codes as the SDK decodes them (service/sts/types/errors.go):
//     InvalidIdentityToken (400), ExpiredTokenException (400),
//     MalformedPolicyDocument (400), ValidationError (400), AccessDenied (403).
const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

var roleSessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// STSOptions configures the STS stand-in.
type STSOptions struct {
	Model    *accessmatrix.Model
	Sessions *Sessions
	Cognito  *Cognito // the issuer of the only web identity tokens accepted
	Now      func() time.Time
	// Trust decides whether a role's trust policy lets a session with
	// session tags take the role (sts:TagSession). Without it, a token
	// that carries tags is refused.
	Trust TrustChecker
}

// STS is an STS endpoint serving AssumeRoleWithWebIdentity with the Cognito
// stand-in's tokens (the basic flow).
type STS struct {
	model    *accessmatrix.Model
	sessions *Sessions
	cognito  *Cognito
	now      func() time.Time
	trust    TrustChecker
}

// NewSTS returns the STS stand-in.
func NewSTS(o STSOptions) (*STS, error) {
	if o.Model == nil || o.Sessions == nil || o.Cognito == nil {
		return nil, errors.New("standin: STSOptions needs Model, Sessions and Cognito")
	}
	s := &STS{model: o.Model, sessions: o.Sessions, cognito: o.Cognito, now: o.Now, trust: o.Trust}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

func stsError(status int, code, msg string) *AWSError { return &AWSError{status, code, msg} }

// ServeHTTP implements the query protocol.
func (s *STS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeSTSError(w, stsError(http.StatusBadRequest, "InvalidAction", "STS query requests are form-encoded POSTs"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		writeSTSError(w, stsError(http.StatusBadRequest, "MalformedInput", "the request body is not a valid form"))
		return
	}
	f := r.PostForm
	if a := f.Get("Action"); a != "AssumeRoleWithWebIdentity" {
		writeSTSError(w, stsError(http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", a, f.Get("Version"))))
		return
	}
	if v := f.Get("Version"); v != "2011-06-15" {
		writeSTSError(w, stsError(http.StatusBadRequest, "InvalidAction", "Version must be 2011-06-15"))
		return
	}
	out, e := s.assume(f.Get("RoleArn"), f.Get("RoleSessionName"), f.Get("WebIdentityToken"), f.Get("DurationSeconds"), f.Get("Policy"), f.Get("PolicyArns.member.1.arn"))
	if e != nil {
		writeSTSError(w, e)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}

// assume is AssumeRoleWithWebIdentity: the input as STS checks it, the
// Cognito token, the duration and the session tags, then the session.
func (s *STS) assume(roleARN, sessionName, token, durationText, policy, policyARN string) (*assumeResponse, *AWSError) {
	if e := checkAssumeInput(roleARN, sessionName, token, policy, policyARN); e != nil {
		return nil, e
	}
	info, e := s.webIdentity(roleARN, token)
	if e != nil {
		return nil, e
	}
	duration, e := s.sessionDuration(roleARN, durationText)
	if e != nil {
		return nil, e
	}
	tags, e := s.sessionTags(token, roleARN, info)
	if e != nil {
		return nil, e
	}
	sess := s.sessions.IssueTagged(roleARN, info.IdentityID, info.Amr, tags, duration)
	roleName := roleARN[strings.LastIndex(roleARN, "/")+1:]
	return &assumeResponse{
		Xmlns: stsNamespace,
		Result: assumeResult{
			Subject:  info.IdentityID,
			Audience: info.Audience,
			User: assumedRoleUser{
				ARN: fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", s.model.Partition(), s.model.Account(), roleName, sessionName),
				ID:  "AROA" + strings.ToUpper(randomHex(8)) + ":" + sessionName,
			},
			Credentials: stsCredentials{
				AccessKeyID:     sess.AccessKeyID,
				SecretAccessKey: sess.SecretAccessKey,
				SessionToken:    sess.SessionToken,
				Expiration:      sess.Expiration.UTC().Format(time.RFC3339),
			},
			// The token's issuer host: contract.LoginKey, from the partition table.
			Provider: s.cognito.Pool.LoginKey,
		},
		RequestID: requestIDString(),
	}, nil
}

// checkAssumeInput refuses, as STS does, a request missing the role, the
// token or a well-formed session name, and (unlike STS) any session
// policy: the stand-in's S3 does not evaluate them.
func checkAssumeInput(roleARN, sessionName, token, policy, policyARN string) *AWSError {
	switch {
	case roleARN == "":
		return stsError(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case !roleSessionNameRE.MatchString(sessionName):
		return stsError(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must have length 2..64 and match [\\w+=,.@-]*")
	case token == "":
		return stsError(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null")
	case policy != "" || policyARN != "":
		return stsError(http.StatusBadRequest, "MalformedPolicyDocument", "session policies are not supported by the local stand-in (its S3 does not evaluate them); unset S3VEND_SESSION_POLICY locally")
	}
	return nil
}

// webIdentity checks the web identity token: one of this pool's, not
// expired, the pool allowing the basic flow, and roleARN the pool's role
// for the token's first amr.
func (s *STS) webIdentity(roleARN, token string) (TokenInfo, *AWSError) {
	info, ok := s.cognito.Token(token)
	switch {
	case !ok || info.Audience != s.cognito.Pool.ID || len(info.Amr) == 0:
		return TokenInfo{}, stsError(http.StatusBadRequest, "InvalidIdentityToken", "Couldn't verify the web identity token: not a token of this identity pool")
	case !s.now().Before(info.Expiration):
		return TokenInfo{}, stsError(http.StatusBadRequest, "ExpiredTokenException", "Token is expired")
	case !s.cognito.Pool.AllowClassicFlow:
		return TokenInfo{}, stsError(http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity (the identity pool does not allow the basic (classic) flow)")
	}
	if want := s.cognito.Pool.Roles[info.Amr[0]]; want == "" || roleARN != want {
		return TokenInfo{}, stsError(http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	return info, nil
}

// sessionDuration is DurationSeconds (default one hour): at least 900
// seconds and at most the role's MaxSessionDuration.
func (s *STS) sessionDuration(roleARN, durationText string) (time.Duration, *AWSError) {
	duration := time.Hour
	if durationText != "" {
		n, err := strconv.Atoi(durationText)
		if err != nil || n < 900 {
			return 0, stsError(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
		}
		duration = time.Duration(n) * time.Second
	}
	if max := s.cognito.Pool.MaxSession[roleARN]; duration > max {
		return 0, stsError(http.StatusBadRequest, "ValidationError", fmt.Sprintf("The requested DurationSeconds exceeds the MaxSessionDuration set for this role (%d).", int(max.Seconds())))
	}
	return duration, nil
}

// sessionTags are the session tags STS takes from the token: only its
// https://aws.amazon.com/tags claim ("To pass session tags from OpenID
// Connect (OIDC), you must include the session tags in the JSON Web Token",
// IAM User Guide, "Passing session tags using AssumeRoleWithWebIdentity";
// the API has no Tags parameter for this operation), checked against STS's
// limits and character set, and allowed by the role's trust policy
// (sts:TagSession).
func (s *STS) sessionTags(token, roleARN string, info TokenInfo) (map[string]string, *AWSError) {
	tags, err := contract.TokenPrincipalTags(token)
	if err != nil {
		return nil, stsError(http.StatusBadRequest, "InvalidIdentityToken", "Couldn't parse the web identity token's session tags: "+err.Error())
	}
	if len(tags) == 0 {
		return nil, nil
	}
	if err := contract.CheckSessionTags(tags); err != nil {
		return nil, stsError(http.StatusBadRequest, "ValidationError", "1 validation error detected: "+err.Error())
	}
	if s.trust == nil {
		return nil, stsError(http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:TagSession (the stand-in has no IAM evaluator)")
	}
	ok, aerr := s.trust.AllowAssume(accessmatrix.Session{RoleARN: roleARN, IdentityID: info.IdentityID, Amr: info.Amr, Tags: tags})
	if aerr != nil {
		return nil, stsError(http.StatusInternalServerError, "InternalFailure", "the IAM evaluator failed")
	}
	if !ok {
		return nil, stsError(http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:TagSession")
	}
	return tags, nil
}

type assumeResponse struct {
	XMLName   xml.Name     `xml:"AssumeRoleWithWebIdentityResponse"`
	Xmlns     string       `xml:"xmlns,attr"`
	Result    assumeResult `xml:"AssumeRoleWithWebIdentityResult"`
	RequestID string       `xml:"ResponseMetadata>RequestId"`
}

type assumeResult struct {
	Subject     string          `xml:"SubjectFromWebIdentityToken"`
	Audience    string          `xml:"Audience"`
	User        assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials stsCredentials  `xml:"Credentials"`
	Provider    string          `xml:"Provider"`
}

type assumedRoleUser struct {
	ARN string `xml:"Arn"`
	ID  string `xml:"AssumedRoleId"`
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

// queryErrorResponse is the error body of AWS's query protocol (STS,
// CloudFormation): ErrorResponse/Error{Type,Code,Message}/RequestId, Type
// "Sender" for the caller's fault and "Receiver" for the service's.
type queryErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// writeQueryError writes e as a query-protocol error of the service whose
// XML namespace is xmlns.
func writeQueryError(w http.ResponseWriter, xmlns string, e *AWSError) {
	var out queryErrorResponse
	out.Xmlns = xmlns
	out.Error.Type = "Sender"
	if e.Status >= 500 {
		out.Error.Type = "Receiver"
	}
	out.Error.Code, out.Error.Message = e.Code, e.Message
	out.RequestID = requestIDString()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}

func writeSTSError(w http.ResponseWriter, e *AWSError) { writeQueryError(w, stsNamespace, e) }
