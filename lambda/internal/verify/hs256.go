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
func (h *HS256) Verify(_ context.Context, token string) (Identity, error) {
	if err := checkCompactJWS(token); err != nil {
		return Identity{}, err
	}
	claims := jwt.MapClaims{}
	_, err := h.parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return h.keys, nil })
	if err != nil {
		return Identity{}, reject(jwtReason(err), err)
	}
	if !saneTimes(claims) {
		return Identity{}, reject("exp, nbf or iat out of range", nil)
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if iat == nil || exp == nil {
		return Identity{}, reject("iat and exp are required", nil)
	}
	if ttl := exp.Sub(iat.Time); ttl <= 0 || ttl > h.cfg.MaxTTL() {
		return Identity{}, reject("token lifetime exceeds maxTtlSeconds", nil)
	}
	sub, _ := claims["sub"].(string)
	if !validUserID(sub) {
		return Identity{}, reject("sub missing or invalid", nil)
	}
	tenant, err := tenantOf(claims, h.cfg.TenantClaim)
	if err != nil {
		return Identity{}, err
	}
	return Identity{ID: sub, Tenant: tenant}, nil
}
