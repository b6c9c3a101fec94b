package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/verify"
)

// DefaultSecretRefresh is how long a warm instance uses the secret it read
// before reading it again: a rotated HS256 key or a newly set
// wechatAppSecret is in use on every instance at most this long after
// put-secret-value, without replacing instances.
const DefaultSecretRefresh = 5 * time.Minute

// secretRetry is how soon a failed re-read is retried (the previous secret
// stays in use meanwhile).
const secretRetry = 30 * time.Second

// secretVerifiers are the wechat/hs256 verifiers built from one read of the
// secret.
type secretVerifiers struct {
	readAt time.Time
	byName map[string]verify.Verifier
}

// secretSource re-reads the secret lazily: the first request after the
// interval reads it (one GetSecretValue per instance per interval, never
// one per request) while concurrent requests keep using the previous
// verifiers. A failed or invalid read keeps the previous verifiers.
type secretSource struct {
	ctx       context.Context
	cfg       config.Config // only the secret-backed verifiers
	d         Deps
	interval  time.Duration
	reloading sync.Mutex
	cur       atomic.Pointer[secretVerifiers]
}

// withSecretRefresh wraps the wechat and hs256 verifiers of all so they
// follow the secret as it changes.
func withSecretRefresh(ctx context.Context, cfg config.Config, d Deps, all []verify.Verifier) []verify.Verifier {
	if d.SecretRefresh < 0 {
		return all
	}
	if d.SecretRefresh == 0 {
		d.SecretRefresh = DefaultSecretRefresh
	}
	cfg.Verifiers.OIDC = nil
	src := &secretSource{ctx: ctx, cfg: cfg, d: d, interval: d.SecretRefresh}
	first := &secretVerifiers{readAt: d.Now(), byName: map[string]verify.Verifier{}}
	out := make([]verify.Verifier, len(all))
	for i, v := range all {
		out[i] = v
		if (cfg.Verifiers.WeChat != nil && v.Name() == cfg.Verifiers.WeChat.Name) ||
			(cfg.Verifiers.HS256 != nil && v.Name() == cfg.Verifiers.HS256.Name) {
			first.byName[v.Name()] = v
			out[i] = refreshing{name: v.Name(), src: src}
		}
	}
	src.cur.Store(first)
	return out
}

// refreshing is a verifier that delegates to the latest secret's verifier.
type refreshing struct {
	name string
	src  *secretSource
}

func (r refreshing) Name() string { return r.name }

func (r refreshing) Verify(ctx context.Context, credential string) (verify.Identity, error) {
	return r.src.current(ctx).byName[r.name].Verify(ctx, credential)
}

// current returns the verifiers to use, re-reading the secret if they are
// older than the interval and no other request is already doing so.
func (s *secretSource) current(ctx context.Context) *secretVerifiers {
	cur := s.cur.Load()
	if s.d.Now().Sub(cur.readAt) < s.interval || !s.reloading.TryLock() {
		return cur
	}
	defer s.reloading.Unlock()
	if cur = s.cur.Load(); s.d.Now().Sub(cur.readAt) < s.interval {
		return cur
	}
	secrets, err := LoadSecrets(ctx, s.cfg, s.d.AWS)
	if err != nil {
		// Keep serving with the previous secret; retry soon. The error
		// text never holds a secret value (LoadSecrets, ParseSecrets).
		s.d.Logger.WarnContext(ctx, "secret refresh failed; keeping the previous secret", "error", err.Error())
		retry := &secretVerifiers{readAt: s.d.Now().Add(min(secretRetry, s.interval) - s.interval), byName: cur.byName}
		s.cur.Store(retry)
		return cur
	}
	next := &secretVerifiers{readAt: s.d.Now(), byName: map[string]verify.Verifier{}}
	for _, v := range Verifiers(s.ctx, s.cfg, secrets, s.d) {
		next.byName[v.Name()] = v
	}
	s.cur.Store(next)
	return next
}
