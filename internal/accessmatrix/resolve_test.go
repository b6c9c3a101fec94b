package accessmatrix

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func parse(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

const resources = `{
	"Bucket": {"Type": "AWS::S3::Bucket"},
	"Logs": {"Type": "AWS::S3::Bucket"},
	"Role": {"Type": "AWS::IAM::Role"},
	"Pool": {"Type": "AWS::Cognito::IdentityPool"},
	"Fn": {"Type": "AWS::Lambda::Function"}
}`

func TestResolve(t *testing.T) {
	r := &resolver{
		env:       env{Partition: "aws-cn", Region: "cn-north-1", Account: testAccount},
		resources: parse(t, resources).(map[string]any),
		bucket:    "Bucket",
	}
	for _, c := range []struct{ in, want string }{
		{`"plain"`, `"plain"`},
		{`{"Ref": "AWS::Partition"}`, `"aws-cn"`},
		{`{"Ref": "AWS::Region"}`, `"cn-north-1"`},
		{`{"Ref": "AWS::AccountId"}`, `"111122223333"`},
		{`{"Ref": "AWS::URLSuffix"}`, `"amazonaws.com.cn"`},
		{`{"Ref": "Bucket"}`, `"s3vend-test-bucket"`},
		{`{"Ref": "Logs"}`, `"logs"`},
		{`{"Ref": "Fn"}`, `"Fn"`},
		{`{"Ref": "Pool"}`, `"cn-north-1:00000000-0000-4000-8000-000000000000"`},
		{`{"Fn::GetAtt": ["Bucket", "Arn"]}`, `"arn:aws-cn:s3:::s3vend-test-bucket"`},
		{`{"Fn::GetAtt": "Role.Arn"}`, `"arn:aws-cn:iam::111122223333:role/Role"`},
		// Policy variables pass through untouched, nested intrinsics resolve.
		{
			`{"Resource": [{"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/private/${cognito-identity.amazonaws.com:sub}/*"]]}],
			  "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}`,
			`{"Resource": ["arn:aws-cn:s3:::s3vend-test-bucket/private/${cognito-identity.amazonaws.com:sub}/*"],
			  "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}`,
		},
		{`{"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, "cognito-identity"]]}`, `"arn:aws-cn:cognito-identity"`},
	} {
		got, err := r.resolve(parse(t, c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if want := parse(t, c.want); !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n got %v\nwant %v", c.in, got, want)
		}
	}

	// What the resolver cannot evaluate faithfully is an error, not a guess.
	for _, in := range []string{
		`{"Ref": "Missing"}`,
		`{"Ref": "AWS::StackName"}`,
		`{"Fn::GetAtt": ["Fn", "Arn"]}`,
		`{"Fn::Sub": "arn:${AWS::Partition}:s3:::x"}`,
		`{"Fn::If": ["Cond", "a", "b"]}`,
		`{"Fn::Join": ["", [{"Fn::Select": [0, ["a"]]}]]}`,
		`{"Fn::Join": ["", "notalist"]}`,
		`["ok", {"Fn::ImportValue": "x"}]`,
	} {
		if got, err := r.resolve(parse(t, in)); err == nil {
			t.Errorf("%s: want an error, got %v", in, got)
		}
	}
}

func TestDetectEnv(t *testing.T) {
	for _, c := range []struct {
		template, partition, region string
		fails                       bool
	}{
		{`{"Resources": {"X": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b"]]}}}`, "aws", "us-east-1", false},
		{`{"Outputs": {"X": {"Value": "arn:aws-cn:cognito-identity:cn-north-1:"}}}`, "aws-cn", "cn-north-1", false},
		{`{"X": ["arn:aws:iam::111122223333:role/x", "arn:aws:execute-api:eu-west-1:"]}`, "aws", "eu-west-1", false},
		{`{"X": ["arn:aws-cn:s3:::b"]}`, "aws-cn", "cn-north-1", false},
		{`{"X": ["arn:aws:s3:::b", "arn:aws-cn:s3:::b"]}`, "", "", true},
		{`{"X": ["arn:aws:sqs:eu-west-1:", "arn:aws:sqs:us-west-2:"]}`, "", "", true},
	} {
		e, err := detectEnv(parse(t, c.template))
		if c.fails {
			if err == nil {
				t.Errorf("%s: want an error, got %+v", c.template, e)
			}
			continue
		}
		if err != nil || e.Partition != c.partition || e.Region != c.region || e.Account != testAccount {
			t.Errorf("%s: got %+v, %v; want %s %s", c.template, e, err, c.partition, c.region)
		}
	}
}

func TestLoadRejectsUnevaluablePolicies(t *testing.T) {
	tpl := parse(t, `{
		"Outputs": {"BucketName": {"Value": {"Ref": "Bucket"}}},
		"Resources": {
			"Bucket": {"Type": "AWS::S3::Bucket"},
			"Pool": {"Type": "AWS::Cognito::IdentityPool"},
			"Attach": {"Type": "AWS::Cognito::IdentityPoolRoleAttachment", "Properties": {
				"IdentityPoolId": {"Ref": "Pool"},
				"Roles": {"authenticated": {"Fn::GetAtt": ["Role", "Arn"]}}}},
			"Role": {"Type": "AWS::IAM::Role", "Properties": {
				"AssumeRolePolicyDocument": {},
				"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]}}
		}}`).(map[string]any)
	if _, err := load(tpl); err == nil || !strings.Contains(err.Error(), "ManagedPolicyArns") {
		t.Errorf("want an error naming ManagedPolicyArns, got %v", err)
	}
}
