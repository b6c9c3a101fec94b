package test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/contract"
)

// contentBucket returns the bucket clients use (not the access-log bucket).
func contentBucket(t *testing.T, tpl map[string]any) (string, map[string]any) {
	t.Helper()
	for id, r := range resources(tpl, "AWS::S3::Bucket") {
		if props(r)["CorsConfiguration"] != nil {
			return id, props(r)
		}
	}
	t.Fatal("no content bucket (with CORS) found")
	return "", nil
}

func bucketPolicyStatements(t *testing.T, tpl map[string]any, bucketID string) []map[string]any {
	t.Helper()
	for _, r := range resources(tpl, "AWS::S3::BucketPolicy") {
		if mustJSON(props(r)["Bucket"]) == mustJSON(map[string]any{"Ref": bucketID}) {
			return statements(t, props(r)["PolicyDocument"])
		}
	}
	t.Fatalf("no bucket policy for %s", bucketID)
	return nil
}

// statements are a policy document's statements.
func statements(t testing.TB, doc any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i := range list(t, doc, "Statement") {
		out = append(out, obj(t, doc, "Statement", i))
	}
	return out
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if str, ok := x.(string); ok {
				out = append(out, str)
			} else {
				out = append(out, mustJSON(x))
			}
		}
		return out
	}
	return []string{mustJSON(v)}
}

func TestBucketDefaultModeDeploysUnderS3Defaults(t *testing.T) {
	for _, stack := range []string{"S3Vend-dev", "S3Vend-prod", "S3Vend-prod-cn", "S3Vend-imported"} {
		t.Run(stack, func(t *testing.T) {
			// GIVEN the default bucket access mode
			tpl := stackTemplate(t, stack)
			// WHEN the content bucket is synthesized
			_, b := contentBucket(t, tpl)
			// THEN ACLs are disabled with an explicit private ACL, the ACL blocks
			// stay on, and only the policy blocks are off (a public policy needs that).
			if got := mustJSON(b["OwnershipControls"]); got != `{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}` {
				t.Errorf("OwnershipControls = %s", got)
			}
			if b["AccessControl"] != "Private" {
				t.Errorf("AccessControl = %v, want Private", b["AccessControl"])
			}
			wantBPA := `{"BlockPublicAcls":true,"BlockPublicPolicy":false,"IgnorePublicAcls":true,"RestrictPublicBuckets":false}`
			if got := mustJSON(b["PublicAccessBlockConfiguration"]); got != wantBPA {
				t.Errorf("PublicAccessBlockConfiguration = %s, want %s", got, wantBPA)
			}
			if got := mustJSON(b["BucketEncryption"]); !strings.Contains(got, `"SSEAlgorithm":"AES256"`) {
				t.Errorf("BucketEncryption = %s, want SSE-S3", got)
			}
			if b["LoggingConfiguration"] == nil {
				t.Error("server access logging is off")
			}
		})
	}
}

func TestBucketACLModeIsOptInAndWarns(t *testing.T) {
	tpl := stackTemplate(t, "S3Vend-acl")
	_, b := contentBucket(t, tpl)
	if got := mustJSON(b["OwnershipControls"]); got != `{"Rules":[{"ObjectOwnership":"BucketOwnerPreferred"}]}` {
		t.Errorf("OwnershipControls = %s; a public-read ACL needs ACLs enabled", got)
	}
	if b["AccessControl"] != "PublicRead" {
		t.Errorf("AccessControl = %v, want PublicRead", b["AccessControl"])
	}
	wantBPA := `{"BlockPublicAcls":false,"BlockPublicPolicy":false,"IgnorePublicAcls":false,"RestrictPublicBuckets":false}`
	if got := mustJSON(b["PublicAccessBlockConfiguration"]); got != wantBPA {
		t.Errorf("PublicAccessBlockConfiguration = %s, want %s", got, wantBPA)
	}
	var warned bool
	for _, a := range annotations(t, "S3Vend-acl") {
		warned = warned || (a.Level == "aws:cdk:warning" && strings.Contains(a.Message, "list every key"))
	}
	if !warned {
		t.Error("no synth warning about the public-read ACL listing every key")
	}
	for _, a := range annotations(t, "S3Vend-dev") {
		if strings.Contains(a.Message, "list every key") {
			t.Error("default mode must not warn about ACLs")
		}
	}
}

// The bucket policy lets anonymous principals s3:GetObject exactly the
// rules' anonymous prefixes (public/* by default) and nothing else, and
// denies plain HTTP.
func TestBucketPolicyPublicReadOfPublicPrefixOnlyAndTLS(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			tpl := stackTemplate(t, stack)
			id, _ := contentBucket(t, tpl)
			var anonymousPrefixes []string
			for _, r := range envConfig(t, strings.TrimPrefix(stack, "S3Vend-")).Access {
				if r.Allows(contract.SubjectAnonymous, contract.ActionGet) {
					anonymousPrefixes = append(anonymousPrefixes, r.Base())
				}
			}
			var publicAllows, tlsDeny int
			for _, s := range bucketPolicyStatements(t, tpl, id) {
				principal := mustJSON(s["Principal"])
				if s["Effect"] == "Allow" && (principal == `{"AWS":"*"}` || principal == `"*"`) {
					publicAllows++
					if got := strs(s["Action"]); !reflect.DeepEqual(got, []string{"s3:GetObject"}) {
						t.Errorf("anonymous principals may only s3:GetObject, got %v", got)
					}
					if got, want := mustJSON(s["Resource"]), `"/`+anonymousPrefixes[publicAllows-1]+`*"]]}`; !strings.HasSuffix(got, want) {
						t.Errorf("anonymous read must be limited to %s*, got %s", anonymousPrefixes[publicAllows-1], got)
					}
					if s["Condition"] != nil {
						t.Errorf("unexpected condition on public read: %s", mustJSON(s["Condition"]))
					}
				}
				if s["Effect"] == "Deny" && mustJSON(s["Condition"]) == `{"Bool":{"aws:SecureTransport":"false"}}` &&
					mustJSON(s["Action"]) == `"s3:*"` {
					tlsDeny++
				}
			}
			if publicAllows != len(anonymousPrefixes) {
				t.Errorf("want one public allow statement per anonymous rule (%v), got %d", anonymousPrefixes, publicAllows)
			}
			if tlsDeny != 1 {
				t.Errorf("want the deny of non-TLS requests, got %d", tlsDeny)
			}
		})
	}
}

func TestBucketCORSAndLifecycleFromConfig(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			env := envConfig(t, name)
			_, b := contentBucket(t, stackTemplate(t, config.StackName(name)))
			rules := list(t, b, "CorsConfiguration", "CorsRules")
			if len(rules) != 1 {
				t.Fatalf("want one CORS rule, got %d", len(rules))
			}
			r := obj(t, rules, 0)
			if got := strs(r["AllowedOrigins"]); !reflect.DeepEqual(got, env.CORSOrigins) {
				t.Errorf("AllowedOrigins = %v, want %v", got, env.CORSOrigins)
			}
			if got := strs(r["AllowedMethods"]); !reflect.DeepEqual(got, []string{"GET", "HEAD", "PUT", "POST", "DELETE"}) {
				t.Errorf("AllowedMethods = %v", got)
			}
			if !slices.Contains(strs(r["ExposedHeaders"]), "ETag") {
				t.Error("ETag must be exposed: browsers need it to complete multipart uploads")
			}
			// AWS SDK for JavaScript v3 sends CRC32 checksums on uploads and
			// validates downloads against x-amz-checksum-* by default.
			if got := strs(r["AllowedHeaders"]); !reflect.DeepEqual(got, []string{"*"}) {
				t.Errorf("AllowedHeaders = %v; SDKs send x-amz-checksum-*, x-amz-sdk-checksum-algorithm and more", got)
			}
			for _, h := range []string{"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
				"x-amz-checksum-sha1", "x-amz-checksum-sha256", "x-amz-checksum-type"} {
				if !slices.Contains(strs(r["ExposedHeaders"]), h) {
					t.Errorf("ExposedHeaders lacks %s: browsers hide it from the SDK's checksum validation", h)
				}
			}
			if r["MaxAge"] != env.CORSMaxAge.Seconds() {
				t.Errorf("MaxAge = %v, want %v", r["MaxAge"], env.CORSMaxAge.Seconds())
			}
			lc := mustJSON(b["LifecycleConfiguration"])
			if !strings.Contains(lc, `"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7}`) {
				t.Errorf("no abort of incomplete multipart uploads: %s", lc)
			}
			versioned := mustJSON(b["VersioningConfiguration"]) == `{"Status":"Enabled"}`
			if versioned != (name == "prod") {
				t.Errorf("versioning = %v in %s", versioned, name)
			}
			if got := strings.Contains(lc, `"NoncurrentVersionExpiration":{"NoncurrentDays":30}`); got != versioned {
				t.Errorf("noncurrent version expiry present = %v, versioning = %v", got, versioned)
			}
		})
	}
}

func TestIdentityPool(t *testing.T) {
	cases := []struct {
		stack      string
		guests     bool
		classic    bool
		userPool   bool
		roleMapped bool
	}{
		{"S3Vend-dev", true, true, false, false},
		{"S3Vend-prod", false, true, false, false},
		{"S3Vend-prod-cn", true, true, false, false},
		{"S3Vend-acl", false, false, true, true},
		{"S3Vend-imported", false, true, true, false},
	}
	for _, c := range cases {
		t.Run(c.stack, func(t *testing.T) {
			tpl := stackTemplate(t, c.stack)
			_, pool := only(t, tpl, "AWS::Cognito::IdentityPool")
			p := props(pool)
			if p["AllowClassicFlow"] != c.classic || p["AllowUnauthenticatedIdentities"] != c.guests {
				t.Errorf("AllowClassicFlow=%v AllowUnauthenticatedIdentities=%v", p["AllowClassicFlow"], p["AllowUnauthenticatedIdentities"])
			}
			env := envConfig(t, strings.TrimPrefix(c.stack, "S3Vend-"))
			if p["DeveloperProviderName"] != env.DeveloperProviderName {
				t.Errorf("DeveloperProviderName = %v", p["DeveloperProviderName"])
			}
			if got := p["CognitoIdentityProviders"] != nil; got != c.userPool {
				t.Errorf("user pool provider present = %v, want %v", got, c.userPool)
			}
			if c.stack == "S3Vend-imported" {
				want := `[{"ClientId":"1example23456789","ProviderName":{"Fn::Join":["",["cognito-idp.eu-west-1.",{"Ref":"AWS::URLSuffix"},"/eu-west-1_AbCdEf123"]]},"ServerSideTokenCheck":true}]`
				if got := mustJSON(p["CognitoIdentityProviders"]); got != want {
					t.Errorf("CognitoIdentityProviders = %s, want %s", got, want)
				}
			}
			_, att := only(t, tpl, "AWS::Cognito::IdentityPoolRoleAttachment")
			roles := obj(t, att, "Properties", "Roles")
			if _, ok := roles["unauthenticated"]; ok != c.guests {
				t.Errorf("unauthenticated role attached = %v, guests = %v", ok, c.guests)
			}
			if got := props(att)["RoleMappings"] != nil; got != c.roleMapped {
				t.Errorf("role mappings present = %v", got)
			}
			// Retention: prod keeps the pool (identity ids key users' data).
			if got := pool["DeletionPolicy"] == "Retain" && pool["UpdateReplacePolicy"] == "Retain"; got != env.Retain {
				t.Errorf("pool retained = %v, want %v", got, env.Retain)
			}
		})
	}
}

func TestRolesTrustOnlyThisPoolAndKind(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			tpl := stackTemplate(t, stack)
			poolID, _ := only(t, tpl, "AWS::Cognito::IdentityPool")
			who := envConfig(t, strings.TrimPrefix(stack, "S3Vend-")).CognitoPrincipal
			var cognitoRoles int
			for id, r := range resources(tpl, "AWS::IAM::Role") {
				st := statements(t, props(r)["AssumeRolePolicyDocument"])
				if mustJSON(st[0]["Principal"]) != `{"Federated":"`+who.TrustPrincipal+`"}` {
					continue
				}
				cognitoRoles++
				amr := "authenticated"
				if strings.Contains(id, "Unauthenticated") {
					amr = "unauthenticated"
				}
				// A second statement, only on the authenticated role and only
				// with session tags: sts:TagSession for exactly the rules' tag
				// keys, under the same aud and amr (test/tags_test.go).
				tags := envConfig(t, strings.TrimPrefix(stack, "S3Vend-")).SessionTagKeys()
				statementsWanted := 1
				if amr == "authenticated" && len(tags) > 0 {
					statementsWanted = 2
					if len(st) < 2 || st[1]["Action"] != "sts:TagSession" || mustJSON(obj(t, st[1], "Condition", "ForAllValues:StringEquals")) != mustJSON(map[string]any{"aws:TagKeys": tags}) {
						t.Errorf("%s: a second trust statement must allow sts:TagSession for %v: %s", id, tags, mustJSON(st))
					}
				}
				if len(st) != statementsWanted || st[0]["Action"] != "sts:AssumeRoleWithWebIdentity" {
					t.Errorf("%s: trust must be the AssumeRoleWithWebIdentity statement (and sts:TagSession with session tags): %s", id, mustJSON(st))
				}
				want := `{"ForAnyValue:StringLike":{"` + who.Key("amr") + `":"` + amr +
					`"},"StringEquals":{"` + who.Key("aud") + `":{"Ref":"` + poolID + `"}}}`
				if got := mustJSON(st[0]["Condition"]); got != want {
					t.Errorf("%s: trust condition = %s, want %s", id, got, want)
				}
				env := envConfig(t, strings.TrimPrefix(stack, "S3Vend-"))
				// The credential lifetime, at least IAM's one-hour minimum.
				if want := contract.RoleMaxSession(env.CredentialLifetime).Seconds(); props(r)["MaxSessionDuration"] != want {
					t.Errorf("%s: MaxSessionDuration = %v, want %v", id, props(r)["MaxSessionDuration"], want)
				}
			}
			want := 1
			if envConfig(t, strings.TrimPrefix(stack, "S3Vend-")).Guests {
				want = 2
			}
			if cognitoRoles != want {
				t.Errorf("want %d Cognito roles, got %d", want, cognitoRoles)
			}
		})
	}
}

func TestTokenVendorLeastPrivilege(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			tpl := stackTemplate(t, stack)
			fnID, fn := tokenVendorFunction(t, tpl)
			p := props(fn)
			if p["Runtime"] != "provided.al2023" || mustJSON(p["Architectures"]) != `["arm64"]` || p["Handler"] != "bootstrap" {
				t.Errorf("function runtime = %v %v %v", p["Runtime"], p["Architectures"], p["Handler"])
			}
			roleID := str(t, p, "Role", "Fn::GetAtt", 0)
			role := obj(t, tpl, "Resources", roleID)
			if props(role)["ManagedPolicyArns"] != nil || props(role)["Policies"] != nil {
				t.Errorf("function role must carry no managed or inline policies besides its own: %s", mustJSON(props(role)))
			}
			var actions []string
			for _, pol := range resources(tpl, "AWS::IAM::Policy") {
				if !strings.Contains(mustJSON(props(pol)["Roles"]), roleID) {
					continue
				}
				for _, s := range statements(t, props(pol)["PolicyDocument"]) {
					if s["Effect"] != "Allow" {
						continue
					}
					for _, a := range strs(s["Action"]) {
						actions = append(actions, a)
						res := mustJSON(s["Resource"])
						switch {
						case a == "cognito-identity:GetOpenIdTokenForDeveloperIdentity":
							poolID, _ := only(t, tpl, "AWS::Cognito::IdentityPool")
							if !strings.Contains(res, `:identitypool/",{"Ref":"`+poolID+`"}`) {
								t.Errorf("%s must be scoped to this pool, got %s", a, res)
							}
						case strings.HasPrefix(a, "secretsmanager:"):
							if !strings.Contains(res, "VerifierSecret") {
								t.Errorf("%s must be scoped to the verifier secret, got %s", a, res)
							}
						case strings.HasPrefix(a, "logs:"):
							if !strings.Contains(res, "FunctionLogs") {
								t.Errorf("%s must be scoped to the function's log group, got %s", a, res)
							}
						case a == "dynamodb:Scan":
							if !strings.Contains(res, "AbuseControlRevocations") {
								t.Errorf("%s must be scoped to the revocation table, got %s", a, res)
							}
						case a == "dynamodb:PutItem":
							if !strings.Contains(res, "AbuseControlUsage") || !strings.Contains(mustJSON(s["Condition"]), `"dynamodb:LeadingKeys":["login#*"]`) {
								t.Errorf("%s must be the usage table's login items only, got %s %s", a, res, mustJSON(s["Condition"]))
							}
						}
						if strings.Contains(res, `"*"`) {
							t.Errorf("%s granted on *", a)
						}
					}
				}
			}
			slices.Sort(actions)
			// The revocation table (read; docs/abuse-control.md), and with a
			// user quota the usage table (read, and its login items).
			want := []string{"cognito-identity:GetOpenIdTokenForDeveloperIdentity", "dynamodb:GetItem", "dynamodb:Scan", "logs:CreateLogStream", "logs:PutLogEvents"}
			env := envConfig(t, strings.TrimPrefix(stack, "S3Vend-"))
			if env.UserQuota.Enabled() {
				want = append(want, "dynamodb:GetItem", "dynamodb:PutItem")
			}
			if env.Verifiers.NeedsSecret() {
				want = append(want, "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
			}
			slices.Sort(want)
			if !reflect.DeepEqual(actions, want) {
				t.Errorf("function %s may do %v, want exactly %v (no STS: AssumeRoleWithWebIdentity needs none; no S3: "+
					"/v1/upload signs with the caller's credentials from GetCredentialsForIdentity, a public API)", fnID, actions, want)
			}
			vars := obj(t, p, "Environment", "Variables")
			for _, k := range []string{contract.EnvIdentityPoolID, contract.EnvDeveloperProvider, contract.EnvAuthRoleARN, contract.EnvVerifiers,
				contract.EnvTokenDuration, contract.EnvCredentialLifetime, contract.EnvGuestsEnabled, contract.EnvBasicFlow} {
				if vars[k] == nil {
					t.Errorf("function environment lacks %s", k)
				}
			}
			// The upload route: the content bucket's name and the limits, as the
			// service's own parser reads them back.
			bucketID, _ := contentBucket(t, tpl)
			if got := mustJSON(vars[contract.EnvBucket]); got != `{"Ref":"`+bucketID+`"}` {
				t.Errorf("%s = %s, want a Ref to the content bucket %s", contract.EnvBucket, got, bucketID)
			}
			upload, err := contract.ParseUploadEnv(func(k string) string { s, _ := vars[k].(string); return s })
			if err != nil || !reflect.DeepEqual(upload, env.Upload) {
				t.Errorf("upload env %v reads back as %+v (%v), want %+v", vars, upload, err, env.Upload)
			}
			// The reuse cache, as the service's own parser reads it back.
			cache, err := contract.ParseCacheEnv(func(k string) string { s, _ := vars[k].(string); return s })
			if err != nil || cache != env.Cache || vars[contract.EnvCacheEnabled] == nil {
				t.Errorf("cache env %v reads back as %+v (%v), want %+v", vars, cache, err, env.Cache)
			}
			if _, ok := vars[contract.EnvUnauthRoleARN]; ok != env.Guests {
				t.Errorf("%s present = %v, guests = %v", contract.EnvUnauthRoleARN, ok, env.Guests)
			}
			var verifiers contract.Verifiers
			if err := json.Unmarshal([]byte(str(t, vars, contract.EnvVerifiers)), &verifiers); err != nil || !reflect.DeepEqual(verifiers, env.Verifiers) {
				t.Errorf("%s does not round-trip the configured verifiers: %v", contract.EnvVerifiers, err)
			}
			if s := mustJSON(vars); strings.Contains(strings.ToLower(s), "secret\":\"") || strings.Contains(s, "hs256Key") {
				t.Errorf("secrets must not be in plain environment variables: %s", s)
			}
		})
	}
}

func TestHTTPAPIThrottlingCORSAndAccessLogs(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			env := envConfig(t, name)
			tpl := stackTemplate(t, config.StackName(name))
			_, stage := only(t, tpl, "AWS::ApiGatewayV2::Stage")
			sp := props(stage)
			rs := obj(t, sp, "DefaultRouteSettings")
			if rs["ThrottlingRateLimit"] != env.ThrottleRateLimit || rs["ThrottlingBurstLimit"] != float64(env.ThrottleBurstLimit) {
				t.Errorf("throttling = %v", mustJSON(rs))
			}
			als := mustJSON(sp["AccessLogSettings"])
			if !strings.Contains(als, "$context.requestId") || !strings.Contains(als, "ApiAccessLogs") {
				t.Errorf("access logs = %s", als)
			}
			_, api := only(t, tpl, "AWS::ApiGatewayV2::Api")
			cors := obj(t, api, "Properties", "CorsConfiguration")
			if got := strs(cors["AllowOrigins"]); !reflect.DeepEqual(got, env.CORSOrigins) {
				t.Errorf("API CORS origins = %v, want %v", got, env.CORSOrigins)
			}
			// Browser clients read Retry-After (429/503) and X-Request-Id.
			if got := strs(cors["ExposeHeaders"]); !reflect.DeepEqual(got, []string{"retry-after", "x-request-id"}) {
				t.Errorf("API CORS exposed headers = %v, want retry-after and x-request-id", got)
			}
		})
	}
}

func TestRetention(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			tpl := stackTemplate(t, config.StackName(name))
			id, _ := contentBucket(t, tpl)
			b := obj(t, tpl, "Resources", id)
			retained := b["DeletionPolicy"] == "Retain" && b["UpdateReplacePolicy"] == "Retain"
			if retained != (name == "prod") {
				t.Errorf("bucket retained = %v in %s", retained, name)
			}
		})
	}
}

func TestOutputsForClients(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			outs := obj(t, stackTemplate(t, stack), "Outputs")
			want := []string{"Region", "BucketName", "IdentityPoolId", "DeveloperProviderName", "TokenEndpoint", "AuthenticatedRoleArn"}
			if envConfig(t, strings.TrimPrefix(stack, "S3Vend-")).Guests {
				want = append(want, "UnauthenticatedRoleArn")
			}
			for _, k := range want {
				if outs[k] == nil {
					t.Errorf("missing output %s", k)
				}
			}
			if got := mustJSON(outs["TokenEndpoint"]); !strings.Contains(got, "v1/token") {
				t.Errorf("TokenEndpoint = %s", got)
			}
		})
	}
}

// TestPartitionTableValues: every stack names Cognito (trust principal,
// condition keys, the S3 policy variable) exactly as its environment's row
// of contract.Partitions (or its cognitoPrincipal) says, and no other
// documented form appears; a pinned region's LoginKey output is the table's.
func TestPartitionTableValues(t *testing.T) {
	for _, stack := range allStacks(t) {
		t.Run(stack, func(t *testing.T) {
			env := envConfig(t, strings.TrimPrefix(stack, "S3Vend-"))
			tpl := mustJSON(stackTemplate(t, stack))
			who := env.CognitoPrincipal
			for _, want := range []string{`"Federated":"` + who.TrustPrincipal + `"`, `"` + who.Key("aud") + `"`, `"` + who.Key("amr") + `"`, who.IdentityIDVariable()} {
				if !strings.Contains(tpl, want) {
					t.Errorf("%s lacks %s", stack, want)
				}
			}
			for _, p := range contract.Partitions {
				for _, other := range p.Principals {
					if other.TrustPrincipal != who.TrustPrincipal && strings.Contains(tpl, `"Federated":"`+other.TrustPrincipal+`"`) {
						t.Errorf("%s trusts %s, not its own %s", stack, other.TrustPrincipal, who.TrustPrincipal)
					}
					if other.ConditionKeyPrefix != who.ConditionKeyPrefix &&
						(strings.Contains(tpl, other.IdentityIDVariable()) || strings.Contains(tpl, `"`+other.Key("aud")+`"`)) {
						t.Errorf("%s uses prefix %s, not its own %s", stack, other.ConditionKeyPrefix, who.ConditionKeyPrefix)
					}
				}
			}
			if env.Region != "" {
				if got, want := mustJSON(obj(t, stackTemplate(t, stack), "Outputs", "LoginKey")), contract.LoginKey(env.Region); !strings.Contains(got, `"`+want+`"`) {
					t.Errorf("LoginKey output %s, want %s", got, want)
				}
			}
		})
	}
}

// TestPartitions: env-agnostic stacks never hard-code a partition, and the
// China environment resolves every ARN in aws-cn.
func TestPartitions(t *testing.T) {
	for _, stack := range []string{"S3Vend-dev", "S3Vend-prod"} {
		if s := mustJSON(stackTemplate(t, stack)); strings.Contains(s, "arn:aws:") || strings.Contains(s, "arn:aws-cn:") {
			t.Errorf("%s hard-codes a partition", stack)
		}
	}
	cn := mustJSON(stackTemplate(t, "S3Vend-prod-cn"))
	if strings.Contains(cn, "arn:aws:") {
		t.Error("S3Vend-prod-cn holds an aws-partition ARN")
	}
	if !strings.Contains(cn, "arn:aws-cn:") {
		t.Error("S3Vend-prod-cn resolves no ARN in aws-cn")
	}
	outs := obj(t, stackTemplate(t, "S3Vend-prod-cn"), "Outputs")
	if got := mustJSON(outs["LoginKey"]); !strings.Contains(got, "cognito-identity.cn-north-1.amazonaws.com.cn") {
		t.Errorf("China LoginKey = %s", got)
	}
}

// TestEdgeRateLimitsPerClientIP: with "edge" enabled, a us-east-1 stack holds
// a CLOUDFRONT web ACL whose rate-based rule blocks a client IP over the
// configured limit with the vendor's own 429, and the environment's stack puts
// a pass-through CloudFront distribution with that ACL in front of the API.
func TestEdgeRateLimitsPerClientIP(t *testing.T) {
	// GIVEN the test-only "edge" environment (perIpLimit 200, window 2m)
	env := envConfig(t, "edge")
	acl := stackTemplate(t, config.EdgeACLStackName("edge"))
	tpl := stackTemplate(t, config.StackName("edge"))

	t.Run("web ACL", func(t *testing.T) {
		_, r := only(t, acl, "AWS::WAFv2::WebACL")
		p := props(r)
		if p["Scope"] != "CLOUDFRONT" || mustJSON(p["DefaultAction"]) != `{"Allow":{}}` {
			t.Errorf("scope %v, default action %s", p["Scope"], mustJSON(p["DefaultAction"]))
		}
		if rules := list(t, p, "Rules"); len(rules) != 2 {
			t.Fatalf("want two rules (per IP, all IPv6), got %d", len(rules))
		}
		rule := ruleNamed(t, acl, "PerClientIP")
		rbs := obj(t, rule, "Statement", "RateBasedStatement")
		if rbs["AggregateKeyType"] != "IP" || rbs["Limit"] != float64(env.Edge.PerIPLimit) || rbs["EvaluationWindowSec"] != env.Edge.Window.Seconds() {
			t.Errorf("rate-based statement = %s, want IP, %d per %s", mustJSON(rbs), env.Edge.PerIPLimit, env.Edge.Window)
		}
		block := mustJSON(rule["Action"])
		if !strings.Contains(block, `"ResponseCode":429`) || !strings.Contains(block, `"Name":"Retry-After","Value":"120"`) {
			t.Errorf("action = %s, want Block with a 429 and Retry-After", block)
		}
		if body := mustJSON(p["CustomResponseBodies"]); !strings.Contains(body, `rate_limited`) {
			t.Errorf("custom bodies = %s", body)
		}
	})

	t.Run("distribution", func(t *testing.T) {
		_, r := only(t, tpl, "AWS::CloudFront::Distribution")
		dc := obj(t, r, "Properties", "DistributionConfig")
		b := obj(t, dc, "DefaultCacheBehavior")
		if !slices.Contains(strs(b["AllowedMethods"]), "POST") || !slices.Contains(strs(b["AllowedMethods"]), "OPTIONS") {
			t.Errorf("methods = %v, want POST and OPTIONS (CORS preflight) to reach the API", b["AllowedMethods"])
		}
		const cachingDisabled, allViewerExceptHost = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "b689b0a8-53d0-40ab-baf2-68738e2966ac"
		if b["CachePolicyId"] != cachingDisabled || b["OriginRequestPolicyId"] != allViewerExceptHost || b["ViewerProtocolPolicy"] != "https-only" {
			t.Errorf("behavior = %s, want CachingDisabled, AllViewerExceptHostHeader, https-only", mustJSON(b))
		}
		origins := list(t, dc, "Origins")
		if len(origins) != 1 {
			t.Fatalf("want one origin, got %d", len(origins))
		}
		o := obj(t, origins, 0)
		if d := mustJSON(o["DomainName"]); !strings.Contains(d, `"TokenVendorApi`) || !strings.Contains(d, "ApiEndpoint") {
			t.Errorf("origin = %s, want the HTTP API's host", d)
		}
		if c := obj(t, o, "CustomOriginConfig"); c["OriginProtocolPolicy"] != "https-only" || mustJSON(c["OriginSSLProtocols"]) != `["TLSv1.2"]` {
			t.Errorf("origin config = %s", mustJSON(c))
		}
		want := `{"Fn::GetStackOutput":{"OutputName":`
		if w := mustJSON(dc["WebACLId"]); !strings.HasPrefix(w, want) || !strings.Contains(w, `"Region":"us-east-1","StackName":"S3Vend-edge-EdgeACL"`) {
			t.Errorf("WebACLId = %s, want the us-east-1 stack's output", w)
		}
	})

	t.Run("outputs", func(t *testing.T) {
		outs := obj(t, tpl, "Outputs")
		if got := mustJSON(outs["TokenEndpoint"]); !strings.Contains(got, "EdgeDistribution") || !strings.Contains(got, "/v1/token") {
			t.Errorf("TokenEndpoint = %s, want the distribution", got)
		}
		if got := mustJSON(outs["DirectTokenEndpoint"]); !strings.Contains(got, "execute-api") {
			t.Errorf("DirectTokenEndpoint = %s", got)
		}
	})

	t.Run("off by default", func(t *testing.T) {
		for _, name := range shippedEnvironments {
			if len(resources(stackTemplate(t, config.StackName(name)), "AWS::CloudFront::Distribution")) != 0 || slices.Contains(everyStack(t), config.EdgeACLStackName(name)) {
				t.Errorf("%s has an edge without asking for one", name)
			}
		}
	})
}
