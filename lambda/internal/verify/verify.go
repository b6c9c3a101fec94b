// Package verify checks login credentials. Each verifier turns a credential
// string into the provider's stable user id, or returns a *fault.Error:
// fault.ErrInvalidCredential when the credential is rejected, or an upstream
// kind (fault.ErrUpstream, fault.ErrTimeout, fault.ErrThrottled,
// fault.ErrRateLimited) when the identity provider could not answer.
package verify

import (
	"context"
	"errors"
	"io"
	"net/http"
	neturl "net/url"
	"regexp"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/fault"
)

// Verifier verifies one kind of credential.
type Verifier interface {
	// Name is the verifier's configured name: the request's provider value and
	// the namespace of the user ids it returns.
	Name() string
	// Verify returns who a valid credential identifies.
	Verify(ctx context.Context, credential string) (Identity, error)
}

// Identity is what a verifier vouches for: the provider's stable user id
// and, when the verifier is configured with a tenantClaim, the tenant the
// credential names. Both are 1-255 printable ASCII characters (or Tenant is
// "" without a tenantClaim).
type Identity struct {
	ID     string
	Tenant string
}

const (
	// MaxTokenBytes bounds a JWT credential; real ID tokens are far smaller.
	MaxTokenBytes = 8 << 10
	// clockSkew tolerated on exp, nbf and iat.
	clockSkew = time.Minute
	// maxUpstreamBody bounds what we read from an identity provider.
	maxUpstreamBody = 1 << 20
)

// maxNumericDate is 9999-12-31T23:59:59Z. No issuer writes an exp, nbf or iat
// outside [0, maxNumericDate]; values like ±1e300 only probe the float→int64
// conversion (implementation-defined in Go), so they are refused.
const maxNumericDate = 253402300799

// saneTimes reports whether every exp, nbf and iat in c is a number within
// [0, maxNumericDate] seconds.
func saneTimes(c jwt.Claims) bool {
	for _, get := range []func() (*jwt.NumericDate, error){c.GetExpirationTime, c.GetNotBefore, c.GetIssuedAt} {
		d, err := get()
		if err != nil {
			return false
		}
		// Out-of-range floats convert to MinInt64/MaxInt64 (or wrap), which
		// lands outside this window on every supported architecture.
		if d != nil && (d.Unix() < 0 || d.Unix() > maxNumericDate) {
			return false
		}
	}
	return true
}

var userIDRE = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// validUserID reports whether id is a printable, bounded user id.
func validUserID(id string) bool { return userIDRE.MatchString(id) }

// tenantOf is the value of the configured tenant claim ("" when none is
// configured). A configured claim that is missing, not a string, or not
// 1-255 printable ASCII characters rejects the credential: a token from a
// verifier with a tenantClaim must name its tenant.
func tenantOf(claims jwt.MapClaims, claim string) (string, error) {
	if claim == "" {
		return "", nil
	}
	t, _ := claims[claim].(string)
	if !validUserID(t) {
		return "", reject("tenant claim missing or invalid", nil)
	}
	return t, nil
}

// checkCompactJWS refuses a JWT that is not a compact JWS of bounded size:
// base64url parts joined by "." (RFC 7515, section 7.1). The character check
// matters because Go's base64 decoders, the strict ones included, skip \r
// and \n ("New line characters (\r and \n) are ignored", encoding/base64),
// so a signature with a newline inside would verify as a second encoding of
// the same token.
func checkCompactJWS(token string) error {
	if len(token) == 0 || len(token) > MaxTokenBytes {
		return reject("token length out of bounds", nil)
	}
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return reject("token is not a compact JWS (base64url parts joined by '.')", nil)
		}
	}
	return nil
}

func reject(reason string, cause error) error {
	return fault.New(fault.ErrInvalidCredential, reason, cause)
}

// jwtReason names a golang-jwt validation failure with fixed text.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "required claim missing"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "unverifiable token"
	default:
		return "token rejected"
	}
}

// upstreamErr classifies a failed HTTP exchange with an identity provider.
func upstreamErr(ctx context.Context, what string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err) {
		return fault.New(fault.ErrTimeout, what+" timed out", err)
	}
	return fault.New(fault.ErrUpstream, what+" failed", err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// get performs a bounded GET and returns the body of a 200 response.
func get(ctx context.Context, client *http.Client, url, what string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fault.New(fault.ErrUpstream, what+" request", withoutQuery(err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, upstreamErr(ctx, what, withoutQuery(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUpstreamBody))
	if err != nil {
		return nil, upstreamErr(ctx, what, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fault.New(fault.ErrUpstream, what+" returned a non-200 status", nil)
	}
	return body, nil
}

// withoutQuery drops the query, fragment and user info from the URL of a
// *url.Error (net/http's error for a failed request, whose text quotes the
// URL): WeChat's URL carries the app secret as a query parameter, and the
// cause must stay safe to print even though fault.Error never prints it.
func withoutQuery(err error) error {
	ue, ok := err.(*neturl.Error)
	if !ok {
		return err
	}
	u, perr := neturl.Parse(ue.URL)
	if perr != nil {
		return &neturl.Error{Op: ue.Op, URL: "(unparsable URL)", Err: ue.Err}
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
	return &neturl.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
}
