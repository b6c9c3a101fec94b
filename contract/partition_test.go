package contract_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/contract"
)

func TestPartitionFor(t *testing.T) {
	cases := []struct {
		region, partition, loginKey, principal, sub string
	}{
		{"us-east-1", "aws", "cognito-identity.amazonaws.com", "cognito-identity.amazonaws.com", "${cognito-identity.amazonaws.com:sub}"},
		{"ap-southeast-7", "aws", "cognito-identity.amazonaws.com", "cognito-identity.amazonaws.com", "${cognito-identity.amazonaws.com:sub}"},
		{"cn-north-1", "aws-cn", "cognito-identity.cn-north-1.amazonaws.com.cn", "cognito-identity.amazonaws.com", "${cognito-identity.amazonaws.com:sub}"},
	}
	for _, c := range cases {
		p, err := contract.PartitionFor(c.region)
		if err != nil {
			t.Fatalf("%s: %v", c.region, err)
		}
		if p.Name != c.partition || contract.LoginKey(c.region) != c.loginKey ||
			p.Principal.TrustPrincipal != c.principal || p.Principal.IdentityIDVariable() != c.sub {
			t.Errorf("%s: %+v loginKey %s", c.region, p, contract.LoginKey(c.region))
		}
	}
	supported := strings.Join(contract.IdentityPoolRegions(), ", ")
	for region, want := range map[string]string{
		"cn-northwest-1": `"cn-northwest-1" has no Cognito identity pools; use one of ` + supported,
		"eu-east-9":      `"eu-east-9" has no Cognito identity pools; use one of ` + supported,
		"mars-1":         `"mars-1" has no Cognito identity pools`,
		"us-gov-west-1":  `"us-gov-west-1": AWS GovCloud (US) is not supported`,
		"us-gov-east-1":  `"us-gov-east-1": AWS GovCloud (US) is not supported`,
	} {
		if _, err := contract.PartitionFor(region); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", region, err, want)
		}
	}
	if !strings.Contains(supported, "cn-north-1") || strings.Contains(supported, "cn-northwest-1") {
		t.Errorf("supported regions: %s", supported)
	}
}

// An environment-agnostic stack learns its partition only at deploy time, so
// its trust policies and S3 policy variable can be right in every partition
// only while every partition's default principal is the same; a new default
// for one partition needs a CfnMapping keyed on AWS::Partition (or requiring
// "region"), and this test says so.
func TestDefaultsAgreeAcrossPartitions(t *testing.T) {
	for _, p := range contract.Partitions {
		if p.Principal != contract.Partitions[0].Principal {
			t.Errorf("%s default %+v differs from aws %+v: env-agnostic stacks would be wrong there", p.Name, p.Principal, contract.Partitions[0].Principal)
		}
		if len(p.Principals) == 0 || p.Principals[0] != p.Principal {
			t.Errorf("%s: the default must be the first documented form: %+v", p.Name, p.Principals)
		}
	}
	cn, ok := contract.PartitionNamed("aws-cn")
	if !ok || len(cn.Principals) != 2 || cn.Principals[1].Key("aud") != "cognito-identity.amazonaws.com.cn:aud" ||
		cn.Principals[1].TrustPrincipal != "cognito-identity.cn-north-1.amazonaws.com.cn" {
		t.Errorf("aws-cn forms: %+v", cn.Principals)
	}
	if _, ok := contract.PartitionNamed("aws-us-gov"); ok {
		t.Error("aws-us-gov is in the table but refused by PartitionFor")
	}
}

// The table's regions are exactly the regions where the AWS SDK for Go v2
// (the version in go.mod) has a cognito-identity endpoint, partition by
// partition: the table follows the SDK's endpoint data, not memory.
func TestIdentityPoolRegionsMatchSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-mod=mod", "-m", "-json", "github.com/aws/aws-sdk-go-v2/service/cognitoidentity").Output()
	if err != nil {
		t.Skipf("go list: %v", err) // not in a module checkout
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go list: %s %v", out, err)
	}
	src, err := os.ReadFile(filepath.Join(mod.Dir, "internal", "endpoints", "endpoints.go"))
	if err != nil {
		t.Fatal(err)
	}
	// Each partition block starts with ID: "<partition>" and lists its
	// endpoints as endpoints.EndpointKey{Region: "<region>"} (plus fips-*
	// pseudo-regions and dual-stack variants).
	blocks := regexp.MustCompile(`(?m)^\t\t+ID: "([a-z-]+)",`).FindAllSubmatchIndex(src, -1)
	regionRe := regexp.MustCompile(`Region: "([a-z0-9-]+)",\n\t+\}: endpoints\.Endpoint\{`)
	sdk := map[string][]string{}
	for i, b := range blocks {
		end := len(src)
		if i+1 < len(blocks) {
			end = blocks[i+1][0]
		}
		id := string(src[b[2]:b[3]])
		for _, m := range regionRe.FindAllSubmatch(src[b[1]:end], -1) {
			r := string(m[1])
			if !strings.HasPrefix(r, "fips-") && !slices.Contains(sdk[id], r) {
				sdk[id] = append(sdk[id], r)
			}
		}
	}
	for _, p := range contract.Partitions {
		want := slices.Sorted(slices.Values(sdk[p.Name]))
		got := slices.Sorted(slices.Values(p.IdentityPoolRegions))
		if !slices.Equal(got, want) {
			t.Errorf("%s: table %v, SDK cognito-identity endpoints %v", p.Name, got, want)
		}
	}
	if len(sdk["aws-us-gov"]) == 0 {
		t.Errorf("parsed no aws-us-gov endpoints: the parser no longer matches the SDK source")
	}
}

func TestPartitionName(t *testing.T) {
	for region, want := range map[string]string{
		"": "aws", "eu-west-1": "aws", "cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
	} {
		if got := contract.PartitionName(region); got != want {
			t.Errorf("PartitionName(%q) = %q, want %q", region, got, want)
		}
	}
}
