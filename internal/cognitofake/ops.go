// Package cognitofake is the one owner of what s3vend's Cognito Identity
// fakes share: per-operation call counts, injected failures and Cognito's
// per-operation rate limits (Ops); the identity pool's bookkeeping —
// identities, the developer user → identity mapping, OpenID token minting
// and checking, on an injected clock (Identities); and the JSON 1.1 answers
// every fake writes the same way (WriteError, WriteCredentials).
//
// Three adapters use it, each keeping only its protocol: the HTTP stand-in
// of internal/standin (e2e, clients, make local), the wire fakes of
// lambda/internal/fakes (the vendor's unit tests) and client/clienttest
// (the Go client's tests). It depends on no CDK and on no package of the
// vendor, so every one of them can import it.
package cognitofake

import (
	"sync"

	"golang.org/x/time/rate"
)

// Throttled is the error code of a call beyond a Limit: the operations'
// documented throttling error (service/cognitoidentity
// types.TooManyRequestsException, HTTP 400).
const Throttled = "TooManyRequestsException"

// Ops counts the calls of each operation and decides which of them fail: an
// injected failure (Fail) or a call beyond the operation's rate limit
// (Limit). The zero value is ready to use; it is safe for concurrent use.
type Ops struct {
	mu       sync.Mutex
	calls    map[string]int
	failures map[string]failure // op ("" for every op) -> injected failure
	limits   map[string]*rate.Limiter
}

type failure struct {
	code string
	n    int // calls left to fail; < 0 until cleared
}

// Fail makes calls of op fail with the AWS error code: the next n calls
// when n > 0, every call until cleared when n < 0; n == 0 (or code "")
// clears it. op "" applies to every operation, after the operation's own
// failure and its limit.
func (o *Ops) Fail(op, code string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n == 0 || code == "" {
		delete(o.failures, op)
		return
	}
	if o.failures == nil {
		o.failures = map[string]failure{}
	}
	o.failures[op] = failure{code, n}
}

// Limit enforces a token bucket of rps requests per second (burst, at
// least 1) on op, as Cognito's account-wide quotas do ("Quotas in Amazon
// Cognito", https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html:
// GetOpenIdTokenForDeveloperIdentity 50 RPS, GetId 25, GetOpenIdToken and
// GetCredentialsForIdentity 200 by default). A call beyond it fails with
// Throttled. It runs on the wall clock (golang.org/x/time/rate), not an
// injected one. rps <= 0 removes the limit.
func (o *Ops) Limit(op string, rps float64, burst int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if rps <= 0 {
		delete(o.limits, op)
		return
	}
	if o.limits == nil {
		o.limits = map[string]*rate.Limiter{}
	}
	o.limits[op] = rate.NewLimiter(rate.Limit(rps), max(1, burst))
}

// Call is the outcome of one recorded call.
type Call struct {
	N int // the call's number, 1-based, among the calls of its operation
	// Code is the AWS error code the call fails with, "" when it goes
	// through: the operation's injected failure, else Throttled beyond its
	// limit (Limited), else the failure injected for every operation.
	Code    string
	Limited bool
}

// Record counts a call of op and decides whether it fails.
func (o *Ops) Record(op string) Call {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.calls == nil {
		o.calls = map[string]int{}
	}
	o.calls[op]++
	c := Call{N: o.calls[op]}
	switch {
	case o.failures[op].code != "":
		c.Code = o.takeFailure(op)
	case o.limits[op] != nil && !o.limits[op].Allow():
		c.Code, c.Limited = Throttled, true
	default:
		c.Code = o.takeFailure("")
	}
	return c
}

func (o *Ops) takeFailure(op string) string {
	f, ok := o.failures[op]
	if !ok {
		return ""
	}
	if f.n > 0 {
		if f.n--; f.n == 0 {
			delete(o.failures, op)
		} else {
			o.failures[op] = f
		}
	}
	return f.code
}

// Calls is how many calls of op were recorded (failed ones included).
func (o *Ops) Calls(op string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls[op]
}

// Total is how many calls were recorded, of all operations.
func (o *Ops) Total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.calls {
		n += c
	}
	return n
}

// Reset clears the counts and the injected failures; limits stay.
func (o *Ops) Reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls, o.failures = nil, nil
}
