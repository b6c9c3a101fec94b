package contract_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
)

// decodeUserTagValue inverts contract.UserTagValue, independently of it: if
// every value decodes back to its (verifier, id), the mapping is injective.
// decodeUserTagValue is contract.ParseUserTagValue, failing t on an error.
func decodeUserTagValue(t *testing.T, v string) (verifier, id string) {
	t.Helper()
	verifier, id, err := contract.ParseUserTagValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return verifier, id
}

// FuzzParseUserTagValue: whatever parses is what UserTagValue makes of the
// result (one spelling per user: no second key segment for the same user).
func FuzzParseUserTagValue(f *testing.F) {
	for _, seed := range []string{"idp:a=2Fb", "google:1", "idp:=41", "idp:a=2f", "x:", "idp:=3D", "Idp:a"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		verifier, id, err := contract.ParseUserTagValue(v)
		if err != nil {
			return
		}
		if again, err := contract.UserTagValue(verifier, id); err != nil || again != v {
			t.Fatalf("%q parses to (%q, %q), which UserTagValue spells %q (%v)", v, verifier, id, again, err)
		}
	})
}

func TestUserTagValueExamples(t *testing.T) {
	for _, c := range []struct{ verifier, id, want string }{
		{"google", "1234567890", "google:1234567890"},
		{"idp", "auth0|64f0c1", "idp:auth0=7C64f0c1"},
		{"idp", "a+b@x.org", "idp:a=2Bb@x.org"},
		{"idp", "a/b", "idp:a=2Fb"},
		{"idp", "a=2Fb", "idp:a=3D2Fb"}, // the escape character is escaped: no collision with "a/b"
		{"idp", "x:y", "idp:x=3Ay"},
		{"idp", "..", "idp:.."},
		{"wechat", "oABC-123_xyz", "wechat:oABC-123_xyz"},
		{"idp", "日本", "idp:=E6=97=A5=E6=9C=AC"},
	} {
		got, err := contract.UserTagValue(c.verifier, c.id)
		if err != nil || got != c.want {
			t.Errorf("UserTagValue(%q, %q) = %q, %v; want %q", c.verifier, c.id, got, err, c.want)
		}
		if err := contract.CheckSessionTags(map[string]string{contract.TagUser: got}); err != nil {
			t.Errorf("%q is not a valid session tag value: %v", got, err)
		}
	}
}

// The mapping refuses what it cannot represent instead of truncating it
// into a collision.
func TestUserTagValueRefusesTooLong(t *testing.T) {
	if _, err := contract.UserTagValue("idp", strings.Repeat("a", 256-4)); err != nil {
		t.Errorf("252 plain characters fit (256 with \"idp:\"): %v", err)
	}
	if _, err := contract.UserTagValue("idp", strings.Repeat("a", 256-3)); !errors.Is(err, contract.ErrTagValueTooLong) {
		t.Errorf("257 characters: got %v, want ErrTagValueTooLong", err)
	}
	if _, err := contract.UserTagValue("idp", strings.Repeat("|", 85)); !errors.Is(err, contract.ErrTagValueTooLong) {
		t.Errorf("85 escaped bytes are 255 characters plus \"idp:\": got %v, want ErrTagValueTooLong", err)
	}
	if _, err := contract.UserTagValue("Bad:Name", "x"); err == nil {
		t.Error("a verifier name with ':' must be refused (it would break injectivity)")
	}
	if _, err := contract.UserTagValue("idp", ""); err == nil {
		t.Error("an empty id must be refused")
	}
}

// FuzzUserTagValue: two different (verifier, id) pairs never map to one
// value, every value is one key segment (no "/", never "." or "..") and a
// valid session tag value.
func FuzzUserTagValue(f *testing.F) {
	f.Add("idp", "a/b", "idp", "a=2Fb")
	f.Add("a", "b:c", "a", "b=3Ac")
	f.Add("x-y", "z", "x", "y:z")
	f.Add("idp", "\x00\xff", "idp", "=00=FF")
	f.Fuzz(func(t *testing.T, v1, id1, v2, id2 string) {
		a, errA := contract.UserTagValue(v1, id1)
		b, errB := contract.UserTagValue(v2, id2)
		for _, c := range []struct {
			v, verifier, id string
			err             error
		}{{a, v1, id1, errA}, {b, v2, id2, errB}} {
			if c.err != nil {
				continue
			}
			if strings.Contains(c.v, "/") || c.v == "." || c.v == ".." {
				t.Fatalf("%q is not a single key segment", c.v)
			}
			if err := contract.CheckSessionTags(map[string]string{contract.TagUser: c.v}); err != nil {
				t.Fatalf("%q: %v", c.v, err)
			}
			if gv, gid := decodeUserTagValue(t, c.v); gv != c.verifier || gid != c.id {
				t.Fatalf("%q decodes to (%q, %q), want (%q, %q)", c.v, gv, gid, c.verifier, c.id)
			}
		}
		if errA == nil && errB == nil && a == b && (v1 != v2 || id1 != id2) {
			t.Fatalf("(%q, %q) and (%q, %q) both map to %q", v1, id1, v2, id2, a)
		}
	})
}

func TestCheckSessionTags(t *testing.T) {
	ok := map[string]string{contract.TagUser: "google:1", contract.TagTenant: "idp:acme"}
	if err := contract.CheckSessionTags(ok); err != nil {
		t.Fatal(err)
	}
	for name, tags := range map[string]map[string]string{
		"empty value":     {contract.TagUser: ""},
		"bad character":   {contract.TagUser: "a|b"},
		"value too long":  {contract.TagUser: strings.Repeat("a", 257)},
		"reserved prefix": {"aws:x": "v"},
		"key too long":    {strings.Repeat("k", 129): "v"},
	} {
		if err := contract.CheckSessionTags(tags); err == nil {
			t.Errorf("%s: accepted %v", name, tags)
		}
	}
	many := map[string]string{}
	for i := range 51 {
		many["k"+strconv.Itoa(i)] = "v"
	}
	if err := contract.CheckSessionTags(many); err == nil {
		t.Error("51 tags accepted; STS allows 50")
	}
}

func TestTagSetKeyIsInjective(t *testing.T) {
	sets := []map[string]string{
		nil,
		{"a": "b"},
		{"a": "b", "c": "d"},
		{"a": "b2:c1:d"},
		{"a": "b", "2:c1:d": ""},
	}
	seen := map[string]int{}
	for i, s := range sets {
		k := contract.TagSetKey(s)
		if j, dup := seen[k]; dup {
			t.Errorf("sets %v and %v share the key %q", sets[j], s, k)
		}
		seen[k] = i
	}
	if contract.TagSetKey(map[string]string{"x": "1", "y": "2"}) != contract.TagSetKey(map[string]string{"y": "2", "x": "1"}) {
		t.Error("the key depends on map order")
	}
}

func jwtWithClaims(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

func TestTokenPrincipalTagsRoundTrip(t *testing.T) {
	tags := map[string]string{contract.TagUser: "google:1", contract.TagTenant: "idp:acme"}
	got, err := contract.TokenPrincipalTags(jwtWithClaims(t, map[string]any{
		"sub": "x", contract.PrincipalTagsClaim: contract.PrincipalTagsClaimValue(tags),
	}))
	if err != nil || contract.TagSetKey(got) != contract.TagSetKey(tags) {
		t.Fatalf("got %v, %v; want %v", got, err, tags)
	}
	if got, err := contract.TokenPrincipalTags(jwtWithClaims(t, map[string]any{"sub": "x"})); err != nil || got != nil {
		t.Errorf("no claim: got %v, %v", got, err)
	}
	for name, tok := range map[string]string{
		"two values": jwtWithClaims(t, map[string]any{contract.PrincipalTagsClaim: map[string]any{"principal_tags": map[string]any{"k": []string{"a", "b"}}}}),
		"not a list": jwtWithClaims(t, map[string]any{contract.PrincipalTagsClaim: map[string]any{"principal_tags": map[string]any{"k": "a"}}}),
		"not a JWT":  "abc",
	} {
		if _, err := contract.TokenPrincipalTags(tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSessionTagsTableAndEnv(t *testing.T) {
	for _, tag := range contract.SessionTags {
		if err := contract.CheckSessionTags(map[string]string{tag.Key: "v"}); err != nil {
			t.Errorf("table key %q: %v", tag.Key, err)
		}
		if tag.Key != strings.ToLower(tag.Key) {
			t.Errorf("%q: keys are compared case-insensitively by STS; keep them lower-case", tag.Key)
		}
	}
	keys := contract.SessionTagKeys([]string{contract.PlaceholderTenant, contract.PlaceholderIdentityID})
	if strings.Join(keys, ",") != contract.TagTenant {
		t.Errorf("tenant rules need only the tenant tag, got %v", keys)
	}
	env := map[string]string{contract.EnvSessionTags: contract.SessionTagsEnv([]string{contract.TagUser, contract.TagTenant})}
	got, err := contract.ParseSessionTagsEnv(func(k string) string { return env[k] })
	if err != nil || strings.Join(got, ",") != contract.TagUser+","+contract.TagTenant {
		t.Errorf("round trip: %v, %v", got, err)
	}
	for _, bad := range []string{"nope", contract.TagUser + "," + contract.TagUser} {
		env[contract.EnvSessionTags] = bad
		if _, err := contract.ParseSessionTagsEnv(func(k string) string { return env[k] }); err == nil || !strings.HasPrefix(err.Error(), contract.EnvSessionTags+": ") {
			t.Errorf("%q: got %v, want an error naming %s", bad, err, contract.EnvSessionTags)
		}
	}
}
