package verify

import (
	"context"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/lambda/internal/config"
)

// HS256 verifies short-lived tokens minted by the team's own backend with a
// shared key (the "developer authenticated identities" backend pattern).
type HS256 struct {
	cfg    config.HS256
	keys   jwt.VerificationKeySet
	parser *jwt.Parser
}

var _ Verifier = (*HS256)(nil)

// NewHS256 returns a verifier using key; now may be nil.
func NewHS256(cfg config.HS256, key []byte, now func() time.Time) *HS256 {
	return NewHS256Keys(cfg, [][]byte{key}, now)
}

// NewHS256Keys returns a verifier that accepts a signature by any of keys,
// tried in order (the current key, then the next one during a rotation).
func NewHS256Keys(cfg config.HS256, keys [][]byte, now func() time.Time) *HS256 {
	if now == nil {
		now = time.Now
	}
	var set jwt.VerificationKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k)
	}
	return &HS256{
		cfg:  cfg,
		keys: set,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(clockSkew),
			jwt.WithTimeFunc(now),
			// One encoding per signature: no malleable trailing bits.
			jwt.WithStrictDecoding(),
		),
	}
}

// Name implements Verifier.
func (h *HS256) Name() string { return h.cfg.Name }

// Verify implements Verifier.
func (h *HS256) Verify(_ context.Context, token string) (string, error) {
	if err := checkCompactJWS(token); err != nil {
		return "", err
	}
	claims := &jwt.RegisteredClaims{}
	_, err := h.parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return h.keys, nil })
	if err != nil {
		return "", reject(jwtReason(err), err)
	}
	if !saneTimes(claims) {
		return "", reject("exp, nbf or iat out of range", nil)
	}
	if claims.IssuedAt == nil || claims.ExpiresAt == nil {
		return "", reject("iat and exp are required", nil)
	}
	if ttl := claims.ExpiresAt.Sub(claims.IssuedAt.Time); ttl <= 0 || ttl > h.cfg.MaxTTL() {
		return "", reject("token lifetime exceeds maxTtlSeconds", nil)
	}
	if !validUserID(claims.Subject) {
		return "", reject("sub missing or invalid", nil)
	}
	return claims.Subject, nil
}
