package test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/constructs"
	"github.com/s3vend/s3vend/lambda/contract"
	"github.com/s3vend/s3vend/stacks"
)

// validEnv is a minimal valid environment; cases below break one key each.
func validEnv() map[string]any {
	return map[string]any{
		"cors":                  map[string]any{"allowedOrigins": []any{"https://app.example.com"}},
		"developerProviderName": "login.example.app",
		"verifiers": map[string]any{"hs256": map[string]any{
			"name": "backend", "issuer": "https://api.example.com", "audience": "s3vend",
		}},
	}
}

func parseOne(name string, env map[string]any) (stacks.EnvConfig, error) {
	cfg, err := stacks.ParseConfig(map[string]any{"environments": map[string]any{name: env}})
	return cfg.Environments[name], err
}

func TestConfigDefaults(t *testing.T) {
	dev, err := parseOne("dev", validEnv())
	if err != nil {
		t.Fatal(err)
	}
	if dev.BucketAccess != constructs.PublicReadByPolicy || dev.Guests || !dev.BasicFlow || dev.Retain || dev.Versioning {
		t.Errorf("dev defaults: %+v", dev)
	}
	if dev.TokenDuration != 15*time.Minute || dev.CredentialLifetime != time.Hour {
		t.Errorf("durations: token %s, credentials %s", dev.TokenDuration, dev.CredentialLifetime)
	}
	wantUpload, _ := contract.UploadLimits{}.Normalize()
	if !reflect.DeepEqual(dev.Upload, wantUpload) {
		t.Errorf("upload defaults = %+v, want the contract's %+v", dev.Upload, wantUpload)
	}
	prod, err := parseOne("prod", validEnv())
	if err != nil {
		t.Fatal(err)
	}
	if !prod.Retain || !prod.Versioning {
		t.Errorf("prod must retain and version by default: %+v", prod)
	}
}

func TestShippedConfigIsValid(t *testing.T) {
	ctx, err := cdkJSON()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := stacks.ParseConfig(ctx[stacks.ContextKey])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dev", "prod", "prod-cn"} {
		if _, ok := cfg.Environments[want]; !ok {
			t.Errorf("cdk.json lacks environment %q", want)
		}
	}
	if r := cfg.Environments["prod-cn"].Region; r != "cn-north-1" {
		t.Errorf("prod-cn region = %q", r)
	}
}

// TestConfigErrorsNameTheKey: every bad value fails synth with a message that
// names the full key and says how to fix it.
func TestConfigErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name string
		env  string
		edit func(m map[string]any)
		key  string // the full key path the error must name
		hint string // and part of the fix
	}{
		{"unknown key", "dev", func(m map[string]any) { m["guest"] = true }, "s3vend.environments.dev", `unknown key "guest"`},
		{"unknown nested key", "dev", func(m map[string]any) {
			m["cors"] = map[string]any{"allowedOrigins": []any{"https://a.example"}, "origins": []any{}}
		}, "s3vend.environments.dev", `unknown key "origins"`},
		{"wrong type", "dev", func(m map[string]any) { m["guests"] = "yes" }, "s3vend.environments.dev", `"guests"`},
		{"star origin in prod", "prod", func(m map[string]any) {
			m["cors"] = map[string]any{"allowedOrigins": []any{"*"}}
		}, "s3vend.environments.prod.cors.allowedOrigins[0]", "not allowed in a production environment"},
		{"origin with path", "dev", func(m map[string]any) {
			m["cors"] = map[string]any{"allowedOrigins": []any{"https://a.example/app"}}
		}, "s3vend.environments.dev.cors.allowedOrigins[0]", "scheme://host"},
		{"http origin in prod", "prod", func(m map[string]any) {
			m["cors"] = map[string]any{"allowedOrigins": []any{"http://a.example"}}
		}, "s3vend.environments.prod.cors.allowedOrigins[0]", "https"},
		{"no origins", "dev", func(m map[string]any) { delete(m, "cors") }, "s3vend.environments.dev.cors.allowedOrigins", "at least one origin"},
		{"provider name characters", "dev", func(m map[string]any) { m["developerProviderName"] = "login/example app" },
			"s3vend.environments.dev.developerProviderName", "letters, digits"},
		{"provider name missing", "dev", func(m map[string]any) { delete(m, "developerProviderName") },
			"s3vend.environments.dev.developerProviderName", "cannot be changed"},
		{"token duration too long", "dev", func(m map[string]any) { m["tokenDuration"] = "25h" },
			"s3vend.environments.dev.tokenDuration", "from 1s to 24h0m0s"},
		{"token duration not a duration", "dev", func(m map[string]any) { m["tokenDuration"] = "15 minutes" },
			"s3vend.environments.dev.tokenDuration", `like "15m"`},
		{"credential lifetime too short", "dev", func(m map[string]any) { m["credentialLifetime"] = "5m" },
			"s3vend.environments.dev.credentialLifetime", "from 15m0s to 12h0m0s"},
		{"region without identity pools", "dev", func(m map[string]any) { m["region"] = "ap-east-2" },
			"s3vend.environments.dev.region", "has no Cognito identity pools"},
		{"bad account", "dev", func(m map[string]any) { m["account"] = "1234" }, "s3vend.environments.dev.account", "12-digit"},
		{"bad bucket access", "dev", func(m map[string]any) { m["bucketAccess"] = "public" }, "s3vend.environments.dev.bucketAccess", "acl-public-read"},
		{"role mappings with basic flow", "dev", func(m map[string]any) {
			m["userPool"] = map[string]any{"create": true}
			m["roleMappings"] = map[string]any{"rules": []any{map[string]any{
				"claim": "g", "matchType": "Equals", "value": "x", "roleArn": "arn:aws:iam::111122223333:role/x",
			}}}
		}, "s3vend.environments.dev.roleMappings", "basic flow"},
		{"user pool in China", "dev", func(m map[string]any) {
			m["region"] = "cn-north-1"
			m["userPool"] = map[string]any{"create": true}
		}, "s3vend.environments.dev.userPool", "not available in cn-north-1"},
		{"no verifier", "dev", func(m map[string]any) { delete(m, "verifiers") }, "s3vend.environments.dev.verifiers", "at least one login verifier"},
		{"duplicate verifier names", "dev", func(m map[string]any) {
			m["verifiers"] = map[string]any{
				"hs256": map[string]any{"name": "x", "issuer": "https://i", "audience": "a"},
				"oidc":  []any{map[string]any{"name": "x", "issuer": "https://i", "audiences": []any{"a"}}},
			}
		}, "s3vend.environments.dev.verifiers.hs256.name", "must be unique"},
		{"oidc symmetric algorithm", "dev", func(m map[string]any) {
			m["verifiers"] = map[string]any{"oidc": []any{map[string]any{
				"name": "x", "issuer": "https://i", "audiences": []any{"a"}, "algorithms": []any{"HS256"},
			}}}
		}, "s3vend.environments.dev.verifiers.oidc[0].algorithms", "asymmetric"},
		{"oidc http issuer", "dev", func(m map[string]any) {
			m["verifiers"] = map[string]any{"oidc": []any{map[string]any{"name": "x", "issuer": "http://i", "audiences": []any{"a"}}}}
		}, "s3vend.environments.dev.verifiers.oidc[0].issuer", "must use https"},
		{"oidc mutable user claim", "dev", func(m map[string]any) {
			m["verifiers"] = map[string]any{"oidc": []any{map[string]any{"name": "x", "issuer": "https://i", "audiences": []any{"a"}, "userClaim": "preferred_username"}}}
		}, "s3vend.environments.dev.verifiers.oidc[0].userClaim", "not an immutable user id"},
		{"bad log retention", "dev", func(m map[string]any) { m["logRetention"] = "48h" }, "s3vend.environments.dev.logRetention", "one of [1 3 5"},
		{"throttle", "dev", func(m map[string]any) { m["throttle"] = map[string]any{"rateLimit": 0} }, "s3vend.environments.dev.throttle.rateLimit", "above 0"},
		{"session policy not a policy", "dev", func(m map[string]any) { m["sessionPolicy"] = map[string]any{"Statement": "x"} },
			"s3vend.environments.dev.sessionPolicy", "2012-10-17"},
		{"bad environment name", "Dev_1", func(m map[string]any) {}, "s3vend.environments.Dev_1", "S3Vend-<env>"},
		{"upload max above S3's POST limit", "dev", func(m map[string]any) { m["upload"] = map[string]any{"maxBytes": 6 << 30} },
			"s3vend.environments.dev.upload.maxBytes", "5 GiB"},
		{"upload max zero", "dev", func(m map[string]any) { m["upload"] = map[string]any{"maxBytes": 0} },
			"s3vend.environments.dev.upload.maxBytes", "leave the key out"},
		{"upload max not an integer", "dev", func(m map[string]any) { m["upload"] = map[string]any{"maxBytes": 1.5} },
			"s3vend.environments.dev", `"upload.maxBytes"`},
		{"upload content type wildcard", "dev", func(m map[string]any) { m["upload"] = map[string]any{"contentTypes": []any{"image/png", "image/*"}} },
			"s3vend.environments.dev.upload.contentTypes[1]", "no parameters or wildcards"},
		{"upload no content types", "dev", func(m map[string]any) { m["upload"] = map[string]any{"contentTypes": []any{}} },
			"s3vend.environments.dev.upload.contentTypes", "leave it out for the defaults"},
		{"upload expiry too long", "dev", func(m map[string]any) { m["upload"] = map[string]any{"expiry": "2h"} },
			"s3vend.environments.dev.upload.expiry", "from 1m0s to 1h0m0s"},
		{"upload expiry not a duration", "dev", func(m map[string]any) { m["upload"] = map[string]any{"expiry": "5 minutes"} },
			"s3vend.environments.dev.upload.expiry", `like "5m"`},
		{"edge without a region", "dev", func(m map[string]any) { m["edge"] = map[string]any{"enabled": true} },
			"s3vend.environments.dev.edge.enabled", `needs "region" set`},
		{"edge in China", "dev", func(m map[string]any) {
			m["region"] = "cn-north-1"
			m["edge"] = map[string]any{"enabled": true}
		}, "s3vend.environments.dev.edge.enabled", "ICP-recorded"},
		{"edge limit below WAF's minimum", "dev", func(m map[string]any) {
			m["region"] = "eu-west-1"
			m["edge"] = map[string]any{"enabled": true, "perIpLimit": 5}
		}, "s3vend.environments.dev.edge.perIpLimit", "from 10"},
		{"edge window not a WAF window", "dev", func(m map[string]any) {
			m["region"] = "eu-west-1"
			m["edge"] = map[string]any{"enabled": true, "window": "3m"}
		}, "s3vend.environments.dev.edge.window", `"1m", "2m", "5m" (default) or "10m"`},
		{"edge unknown key", "dev", func(m map[string]any) { m["edge"] = map[string]any{"perIpPer5Minutes": 500} },
			"s3vend.environments.dev", `unknown key "perIpPer5Minutes"`},
		{"cache entries zero", "dev", func(m map[string]any) { m["cache"] = map[string]any{"maxEntries": 0} },
			"s3vend.environments.dev.cache.maxEntries", `"enabled": false`},
		{"cache entries too many", "dev", func(m map[string]any) { m["cache"] = map[string]any{"maxEntries": 1 << 30} },
			"s3vend.environments.dev.cache.maxEntries", "from 1 to 100000"},
		{"cache margin not a duration", "dev", func(m map[string]any) { m["cache"] = map[string]any{"minRemaining": "5 minutes"} },
			"s3vend.environments.dev.cache.minRemaining", `like "5m"`},
		{"cache margin too short", "dev", func(m map[string]any) { m["cache"] = map[string]any{"minRemaining": "10s"} },
			"s3vend.environments.dev.cache.minRemaining", "from 30s"},
		{"cache margin beyond the token", "dev", func(m map[string]any) { m["cache"] = map[string]any{"minRemaining": "15m"} },
			"s3vend.environments.dev.cache.minRemaining", "shorter than tokenDuration"},
		{"cache unknown key", "dev", func(m map[string]any) { m["cache"] = map[string]any{"ttl": "5m"} },
			"s3vend.environments.dev", `unknown key "ttl"`},
		{"quota zero", "dev", func(m map[string]any) { m["quota"] = map[string]any{"developerTokenRps": 0} },
			"s3vend.environments.dev.quota.developerTokenRps", "from 1 to 10000"},
		{"quota hit ratio 1", "dev", func(m map[string]any) { m["quota"] = map[string]any{"cacheHitRatio": 1} },
			"s3vend.environments.dev.quota.cacheHitRatio", "from 0 to 0.95"},
		{"quota hit ratio without cache", "dev", func(m map[string]any) {
			m["cache"] = map[string]any{"enabled": false}
			m["quota"] = map[string]any{"cacheHitRatio": 0.5}
		}, "s3vend.environments.dev.quota.cacheHitRatio", "only applies with the cache on"},
		{"upload unknown key", "dev", func(m map[string]any) { m["upload"] = map[string]any{"maxSize": 1} },
			"s3vend.environments.dev", `unknown key "maxSize"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := validEnv()
			c.edit(env)
			_, err := parseOne(c.env, env)
			if err == nil {
				t.Fatalf("want an error naming %s", c.key)
			}
			if !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), c.hint) {
				t.Errorf("error does not name %q with hint %q:\n%v", c.key, c.hint, err)
			}
		})
	}
}

func TestConfigThrottleDerivedFromQuota(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(m map[string]any)
		rate  float64
		burst int
		cache contract.CacheSettings
	}{
		// 50 / (1 - 0.75): the default quota and hit ratio.
		{"defaults", func(map[string]any) {}, 200, 200, contract.CacheSettings{MaxEntries: contract.DefaultCacheMaxEntries, MinRemaining: contract.DefaultCacheMinRemaining}},
		{"cache off: the quota itself", func(m map[string]any) { m["cache"] = map[string]any{"enabled": false} }, 50, 50,
			contract.CacheSettings{Disabled: true, MaxEntries: contract.DefaultCacheMaxEntries, MinRemaining: contract.DefaultCacheMinRemaining}},
		{"raised quota", func(m map[string]any) { m["quota"] = map[string]any{"developerTokenRps": 120, "cacheHitRatio": 0.6} }, 300, 300,
			contract.CacheSettings{MaxEntries: contract.DefaultCacheMaxEntries, MinRemaining: contract.DefaultCacheMinRemaining}},
		{"explicit throttle wins", func(m map[string]any) { m["throttle"] = map[string]any{"rateLimit": 7} }, 7, 200,
			contract.CacheSettings{MaxEntries: contract.DefaultCacheMaxEntries, MinRemaining: contract.DefaultCacheMinRemaining}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := validEnv()
			c.edit(env)
			e, err := parseOne("dev", env)
			if err != nil {
				t.Fatal(err)
			}
			if e.ThrottleRate != c.rate || e.ThrottleBurst != c.burst || e.Cache != c.cache {
				t.Errorf("throttle %v/%d cache %+v, want %v/%d %+v", e.ThrottleRate, e.ThrottleBurst, e.Cache, c.rate, c.burst, c.cache)
			}
		})
	}
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	env := validEnv()
	env["tokenDuration"] = "0s"
	env["credentialLifetime"] = "13h"
	_, err := parseOne("dev", env)
	if err == nil || !strings.Contains(err.Error(), ".tokenDuration") || !strings.Contains(err.Error(), ".credentialLifetime") {
		t.Errorf("want both problems reported, got %v", err)
	}
}

func TestConfigMissingOrMalformed(t *testing.T) {
	for _, in := range []any{nil, map[string]any{}, json.RawMessage(`{"environments": 3}`), "x"} {
		if _, err := stacks.ParseConfig(in); err == nil || !strings.Contains(err.Error(), "s3vend") {
			t.Errorf("ParseConfig(%v) = %v, want an error naming s3vend", in, err)
		}
	}
}

func TestConfigUploadNormalized(t *testing.T) {
	env := validEnv()
	env["upload"] = map[string]any{"maxBytes": 1 << 20, "contentTypes": []any{"Image/PNG"}, "expiry": "90s"}
	dev, err := parseOne("dev", env)
	if err != nil {
		t.Fatal(err)
	}
	want := contract.UploadLimits{MaxBytes: 1 << 20, ContentTypes: []string{"image/png"}, Expiry: 90 * time.Second}
	if !reflect.DeepEqual(dev.Upload, want) {
		t.Errorf("upload = %+v, want %+v", dev.Upload, want)
	}
}

func TestConfigEdgeOffByDefault(t *testing.T) {
	dev, err := parseOne("dev", validEnv())
	if err != nil {
		t.Fatal(err)
	}
	want := stacks.EdgeConfig{PerIPLimit: constructs.DefaultRateLimit, Window: constructs.DefaultRateLimitWindow}
	if dev.Edge != want {
		t.Errorf("edge = %+v, want off with defaults %+v", dev.Edge, want)
	}
	env := validEnv()
	env["region"] = "us-east-1"
	env["edge"] = map[string]any{"enabled": true, "perIpLimit": 1000, "window": "10m"}
	on, err := parseOne("dev", env)
	if err != nil {
		t.Fatal(err)
	}
	if want := (stacks.EdgeConfig{Enabled: true, PerIPLimit: 1000, Window: 10 * time.Minute}); on.Edge != want {
		t.Errorf("edge = %+v, want %+v", on.Edge, want)
	}
}
