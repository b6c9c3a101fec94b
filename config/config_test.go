package config_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
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

func parseOne(name string, env map[string]any) (config.Environment, error) {
	cfg, err := config.Parse(map[string]any{"environments": map[string]any{name: env}})
	return cfg.Environments[name], err
}

func TestConfigDefaults(t *testing.T) {
	env := validEnv()
	env["disposable"] = true
	dev, err := parseOne("dev", env)
	if err != nil {
		t.Fatal(err)
	}
	if dev.BucketAccess != config.PublicReadByPolicy || dev.Guests || !dev.BasicFlow || dev.Retain || dev.Versioning {
		t.Errorf("dev defaults: %+v", dev)
	}
	if dev.TokenDuration != contract.DefaultTokenDuration || dev.CredentialLifetime != contract.DefaultCredentialLifetime {
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
	ctx, err := config.ReadCDKJSON("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.ParseWith(ctx[config.ContextKey], config.ParseOptions{WarnPlaceholders: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dev", "prod", "prod-cn"} {
		if _, ok := cfg.Environments[want]; !ok {
			t.Errorf("cdk.json lacks environment %q", want)
		}
	}
	if !cfg.Environments["dev"].Disposable || cfg.Environments["prod"].Disposable || cfg.Environments["prod-cn"].Disposable {
		t.Error("the sample dev must be disposable, prod and prod-cn protected")
	}
	// Without the offline opt-out the sample's placeholders stop a deploy
	// of prod and prod-cn, naming each key; dev only warns.
	_, err = config.Parse(ctx[config.ContextKey])
	for _, key := range []string{
		"s3vend.environments.prod.verifiers.oidc[0].audiences[0]",
		"s3vend.environments.prod-cn.verifiers.wechat.appId",
	} {
		if err == nil || !strings.Contains(err.Error(), key+": ") {
			t.Errorf("the shipped cdk.json without %s=warn: want an error naming %s, got %v", config.PlaceholdersContextKey, key, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "environments.dev.") {
		t.Errorf("disposable dev must only warn about placeholders: %v", err)
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
		}, "s3vend.environments.prod.cors.allowedOrigins[0]", "not allowed in a protected environment"},
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
		{"region without identity pools", "dev", func(m map[string]any) { m["region"] = "cn-northwest-1" },
			"s3vend.environments.dev.region", `"cn-northwest-1" has no Cognito identity pools; use one of af-south-1,`},
		{"not a region", "dev", func(m map[string]any) { m["region"] = "eu-east-9" },
			"s3vend.environments.dev.region", "cn-north-1, eu-central-1"},
		{"GovCloud", "dev", func(m map[string]any) { m["region"] = "us-gov-west-1" },
			"s3vend.environments.dev.region", "AWS GovCloud (US) is not supported"},
		{"principal of another partition", "dev", func(m map[string]any) {
			m["region"] = "eu-west-1"
			m["cognitoPrincipal"] = map[string]any{
				"trustPrincipal": "cognito-identity.cn-north-1.amazonaws.com.cn", "conditionKeyPrefix": "cognito-identity.amazonaws.com.cn",
			}
		}, "s3vend.environments.dev.cognitoPrincipal", `not a form AWS documents for partition aws; use one of {"trustPrincipal":"cognito-identity.amazonaws.com"`},
		{"principal forms mixed", "dev", func(m map[string]any) {
			m["region"] = "cn-north-1"
			m["cognitoPrincipal"] = map[string]any{
				"trustPrincipal": "cognito-identity.amazonaws.com", "conditionKeyPrefix": "cognito-identity.amazonaws.com.cn",
			}
		}, "s3vend.environments.dev.cognitoPrincipal", "not a form AWS documents for partition aws-cn"},
		{"principal without region", "dev", func(m map[string]any) {
			m["cognitoPrincipal"] = map[string]any{
				"trustPrincipal": "cognito-identity.amazonaws.com", "conditionKeyPrefix": "cognito-identity.amazonaws.com",
			}
		}, "s3vend.environments.dev.cognitoPrincipal", `needs "region" set`},
		{"bad account", "dev", func(m map[string]any) { m["account"] = "1234" }, "s3vend.environments.dev.account", "12-digit"},
		{"bad bucket access", "dev", func(m map[string]any) { m["bucketAccess"] = "public" }, "s3vend.environments.dev.bucketAccess", "acl-public-read"},
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
		{"session policy over STS's limit", "dev", func(m map[string]any) { m["sessionPolicy"] = bigPolicy(3000) },
			"s3vend.environments.dev.sessionPolicy", "STS accepts at most 2048"},
		{"provider name reserved prefix", "dev", func(m map[string]any) { m["developerProviderName"] = "Cognito.login" },
			"s3vend.environments.dev.developerProviderName", `must not start with "cognito"`},
		{"role mapping match type", "dev", func(m map[string]any) {
			m["basicFlow"] = false
			m["userPool"] = map[string]any{"create": true}
			m["roleMappings"] = map[string]any{"rules": []any{map[string]any{
				"claim": "g", "matchType": "equals", "value": "x", "roleArn": "arn:aws:iam::111122223333:role/x",
			}}}
		}, "s3vend.environments.dev.roleMappings.rules[0].matchType", "Equals, Contains, StartsWith, NotEqual"},
		{"role mapping role in an unknown partition", "dev", func(m map[string]any) {
			m["basicFlow"] = false
			m["userPool"] = map[string]any{"create": true}
			m["roleMappings"] = map[string]any{"rules": []any{map[string]any{
				"claim": "g", "matchType": "Equals", "value": "x", "roleArn": "arn:aws-xx:iam::111122223333:role/x",
			}}}
		}, "s3vend.environments.dev.roleMappings.rules[0].roleArn", "not an IAM role ARN"},
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

// Role mappings steer GetCredentialsForIdentity (the enhanced flow) and the
// basic flow assumes the role the vendor names, so one pool may have both.
func TestConfigRoleMappingsWithBasicFlow(t *testing.T) {
	env := validEnv()
	env["userPool"] = map[string]any{"create": true}
	env["roleMappings"] = map[string]any{"rules": []any{map[string]any{
		"claim": "g", "matchType": "Equals", "value": "x", "roleArn": "arn:aws:iam::111122223333:role/x",
	}}}
	e, err := parseOne("dev", env)
	if err != nil || !e.BasicFlow || len(e.RoleMappings) != 1 {
		t.Fatalf("%v %+v", err, e)
	}
}

// The partition table decides the principal; an environment may pick
// another documented form of its partition.
func TestConfigPartitionPrincipal(t *testing.T) {
	env := validEnv()
	env["region"] = "cn-north-1"
	e, err := parseOne("dev", env)
	if err != nil || e.Partition.Name != "aws-cn" || e.CognitoPrincipal.TrustPrincipal != "cognito-identity.amazonaws.com" {
		t.Fatalf("%v %+v %+v", err, e.Partition, e.CognitoPrincipal)
	}
	alt := contract.CognitoPrincipal{TrustPrincipal: "cognito-identity.cn-north-1.amazonaws.com.cn", ConditionKeyPrefix: "cognito-identity.amazonaws.com.cn"}
	env["cognitoPrincipal"] = map[string]any{"trustPrincipal": alt.TrustPrincipal, "conditionKeyPrefix": alt.ConditionKeyPrefix}
	if e, err = parseOne("dev", env); err != nil || e.CognitoPrincipal != alt {
		t.Fatalf("%v %+v", err, e.CognitoPrincipal)
	}
	agnostic, err := parseOne("dev", validEnv())
	if err != nil || agnostic.Partition.Name != "aws" || agnostic.CognitoPrincipal != contract.Partitions[0].Principal {
		t.Fatalf("%v %+v", err, agnostic)
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
			if e.ThrottleRateLimit != c.rate || e.ThrottleBurstLimit != c.burst || e.Cache != c.cache {
				t.Errorf("throttle %v/%d cache %+v, want %v/%d %+v", e.ThrottleRateLimit, e.ThrottleBurstLimit, e.Cache, c.rate, c.burst, c.cache)
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
		if _, err := config.Parse(in); err == nil || !strings.Contains(err.Error(), "s3vend") {
			t.Errorf("Parse(%v) = %v, want an error naming s3vend", in, err)
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
	want := config.Edge{PerIPLimit: config.DefaultRateLimit, Window: config.DefaultRateLimitWindow}
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
	if want := (config.Edge{Enabled: true, PerIPLimit: 1000, Window: 10 * time.Minute}); on.Edge != want {
		t.Errorf("edge = %+v, want %+v", on.Edge, want)
	}
}

// bigPolicy is a session policy of about n characters once compacted.
func bigPolicy(n int) map[string]any {
	return map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::" + strings.Repeat("b", n-100),
	}}}
}

// TestProtectedWhateverTheName: protection (versioning, retention, https-only
// CORS without "*") does not depend on the environment's name; only an
// explicit "disposable": true opts out.
func TestProtectedWhateverTheName(t *testing.T) {
	for _, name := range []string{"prod", "prod2", "production", "staging", "dev", "qa-eu"} {
		t.Run(name, func(t *testing.T) {
			e, err := parseOne(name, validEnv())
			if err != nil {
				t.Fatal(err)
			}
			if e.Disposable || !e.Versioning || !e.Retain {
				t.Errorf("%s: disposable=%v versioning=%v retain=%v, want a protected environment", name, e.Disposable, e.Versioning, e.Retain)
			}
			for _, origin := range []string{"*", "http://app.example.com"} {
				env := validEnv()
				env["cors"] = map[string]any{"allowedOrigins": []any{origin}}
				if _, err := parseOne(name, env); err == nil || !strings.Contains(err.Error(), "s3vend.environments."+name+".cors.allowedOrigins[0]") {
					t.Errorf("%s: origin %q: want an error naming the key, got %v", name, origin, err)
				}
			}
			env := validEnv()
			env["cors"] = map[string]any{"allowedOrigins": []any{"http://localhost:3000"}}
			if _, err := parseOne(name, env); err != nil {
				t.Errorf("%s: http://localhost is a developer's browser, not a deployment: %v", name, err)
			}

			env = validEnv()
			env["disposable"] = true
			env["cors"] = map[string]any{"allowedOrigins": []any{"*"}}
			d, err := parseOne(name, env)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Disposable || d.Versioning || d.Retain {
				t.Errorf("%s disposable: versioning=%v retain=%v, want neither", name, d.Versioning, d.Retain)
			}
		})
	}
}

// TestPlaceholders: a sample value left in the config (REPLACE-ME...) is a
// synth error naming the key in a protected environment, a warning with the
// offline opt-out, and a warning in a disposable environment.
func TestPlaceholders(t *testing.T) {
	withPlaceholder := func() map[string]any {
		env := validEnv()
		env["verifiers"] = map[string]any{
			"oidc":   []any{map[string]any{"name": "google", "issuer": "https://accounts.google.com", "audiences": []any{"ok", "replace-me.apps.googleusercontent.com"}}},
			"wechat": map[string]any{"name": "wechat", "appId": "wxREPLACEME00000000"},
		}
		return env
	}
	keys := []string{"verifiers.oidc[0].audiences[1]", "verifiers.wechat.appId"}
	parse := func(env map[string]any, warn bool) (config.Environment, error) {
		cfg, err := config.ParseWith(map[string]any{"environments": map[string]any{"staging": env}}, config.ParseOptions{WarnPlaceholders: warn})
		return cfg.Environments["staging"], err
	}

	_, err := parse(withPlaceholder(), false)
	for _, k := range keys {
		if err == nil || !strings.Contains(err.Error(), "s3vend.environments.staging."+k+": ") || !strings.Contains(err.Error(), "placeholder") {
			t.Errorf("protected: want an error naming %s, got %v", k, err)
		}
	}

	e, err := parse(withPlaceholder(), true)
	if err != nil {
		t.Fatalf("protected with %s=warn: %v", config.PlaceholdersContextKey, err)
	}
	if !reflect.DeepEqual(e.Placeholders, keys) || !strings.Contains(e.PlaceholderWarning(), "cannot be deployed as is") {
		t.Errorf("warn: placeholders %v, warning %q", e.Placeholders, e.PlaceholderWarning())
	}

	env := withPlaceholder()
	env["disposable"] = true
	e, err = parse(env, false)
	if err != nil || !reflect.DeepEqual(e.Placeholders, keys) {
		t.Errorf("disposable: placeholders %v, err %v; want a warning only", e.Placeholders, err)
	}

	if e, err := parse(validEnv(), false); err != nil || e.PlaceholderWarning() != "" {
		t.Errorf("no placeholders: %v %q", err, e.PlaceholderWarning())
	}

	for in, want := range map[any]string{nil: "", "warn": "warn", "refuse": "", "yes": "error"} {
		o, err := config.ParseOptionsFromContext(in)
		switch {
		case want == "error" && (err == nil || !strings.Contains(err.Error(), config.PlaceholdersContextKey)):
			t.Errorf("context %v: want an error naming the key, got %v", in, err)
		case want != "error" && (err != nil || o.WarnPlaceholders != (want == "warn")):
			t.Errorf("context %v: %+v %v", in, o, err)
		}
	}
}
