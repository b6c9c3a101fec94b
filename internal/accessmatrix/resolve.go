package accessmatrix

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/s3vend/s3vend/contract"
)

// Test values that stand in for what CloudFormation fills in at deploy time.
const (
	testAccount    = "111122223333"
	testBucketName = "s3vend-test-bucket"
)

// env is the partition, region and account a template is resolved in.
type env struct {
	Partition, Region, Account string
}

var defaultRegion = map[string]string{"aws": "us-east-1", "aws-cn": "cn-north-1"}

// arnLiteral matches the head of an ARN that CDK wrote out literally, which it
// does for stacks with a known region; env-agnostic stacks use AWS::Partition.
var arnLiteral = regexp.MustCompile(`^arn:(aws[a-z-]*):[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d)?:`)

// detectEnv finds the partition and region a template was synthesized for,
// from its literal ARNs; env-agnostic templates get aws and us-east-1.
func detectEnv(template any) (env, error) {
	partitions, regions := map[string]bool{}, map[string]bool{}
	walkStrings(template, func(s string) {
		if m := arnLiteral.FindStringSubmatch(s); m != nil {
			partitions[m[1]] = true
			if m[2] != "" {
				regions[m[2]] = true
			}
		}
	})
	e := env{Partition: "aws", Account: testAccount}
	if len(partitions) > 1 || len(regions) > 1 {
		return e, fmt.Errorf("template mixes partitions %v or regions %v", partitions, regions)
	}
	for p := range partitions {
		e.Partition = p
	}
	e.Region = defaultRegion[e.Partition]
	for r := range regions {
		e.Region = r
	}
	if e.Region == "" {
		return e, fmt.Errorf("no default region for partition %q", e.Partition)
	}
	return e, nil
}

func walkStrings(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case []any:
		for _, x := range v {
			walkStrings(x, f)
		}
	case map[string]any:
		for _, x := range v {
			walkStrings(x, f)
		}
	}
}

// resolver replaces the intrinsics CDK writes into policies (Ref, Fn::GetAtt,
// Fn::Join) with concrete test values. Anything else is an error, so a policy
// this package cannot evaluate faithfully fails the test instead of passing.
type resolver struct {
	env
	resources map[string]any // logical id -> resource
	bucket    string         // logical id of the bucket clients use
}

func (r *resolver) resolve(v any) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			var err error
			if out[i], err = r.resolve(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				switch {
				case k == "Ref":
					return r.ref(arg)
				case k == "Fn::GetAtt":
					return r.getAtt(arg)
				case k == "Fn::Join":
					return r.join(arg)
				case strings.HasPrefix(k, "Fn::"):
					return nil, fmt.Errorf("unsupported intrinsic %s", k)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			var err error
			if out[k], err = r.resolve(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

// resolveString resolves v and requires a string.
func (r *resolver) resolveString(v any) (string, error) {
	x, err := r.resolve(v)
	if err != nil {
		return "", err
	}
	s, ok := x.(string)
	if !ok {
		return "", fmt.Errorf("%v does not resolve to a string", v)
	}
	return s, nil
}

func (r *resolver) resourceType(id string) string {
	res, _ := r.resources[id].(map[string]any)
	t, _ := res["Type"].(string)
	return t
}

func (r *resolver) ref(arg any) (string, error) {
	name, _ := arg.(string)
	switch name {
	case "AWS::Partition":
		return r.Partition, nil
	case "AWS::Region":
		return r.Region, nil
	case "AWS::AccountId":
		return r.Account, nil
	case "AWS::URLSuffix":
		p, ok := contract.PartitionNamed(r.Partition)
		if !ok {
			return "", fmt.Errorf("partition %s is not in contract.Partitions", r.Partition)
		}
		return p.DNSSuffix, nil
	}
	switch r.resourceType(name) {
	case "":
		return "", fmt.Errorf("ref to unknown resource or parameter %v", arg)
	case "AWS::S3::Bucket":
		return r.bucketName(name), nil
	case "AWS::Cognito::IdentityPool":
		return r.Region + ":00000000-0000-4000-8000-000000000000", nil
	}
	return name, nil // a role's name, a policy's name: the logical id will do
}

func (r *resolver) getAtt(arg any) (string, error) {
	var id, attr string
	switch a := arg.(type) {
	case []any:
		if len(a) == 2 {
			id, _ = a[0].(string)
			attr, _ = a[1].(string)
		}
	case string:
		id, attr, _ = strings.Cut(a, ".")
	}
	switch t := r.resourceType(id); {
	case t == "AWS::S3::Bucket" && attr == "Arn":
		return fmt.Sprintf("arn:%s:s3:::%s", r.Partition, r.bucketName(id)), nil
	case t == "AWS::IAM::Role" && attr == "Arn":
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", r.Partition, r.Account, id), nil
	// The abuse-control resources, named by logical id as the stand-ins
	// name them (internal/standin: queues, tables), in the ARN formats of
	// the Service Authorization Reference (SQS "queue", DynamoDB "table",
	// CloudWatch Logs "log-group" resource types).
	case t == "AWS::SQS::Queue" && attr == "Arn":
		return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", r.Partition, r.Region, r.Account, id), nil
	case t == "AWS::DynamoDB::Table" && attr == "Arn":
		return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", r.Partition, r.Region, r.Account, id), nil
	case t == "AWS::Logs::LogGroup" && attr == "Arn":
		return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", r.Partition, r.Region, r.Account, id), nil
	}
	return "", fmt.Errorf("unsupported Fn::GetAtt %v", arg)
}

func (r *resolver) join(arg any) (string, error) {
	a, _ := arg.([]any)
	if len(a) != 2 {
		return "", fmt.Errorf("malformed Fn::Join %v", arg)
	}
	sep, ok1 := a[0].(string)
	parts, ok2 := a[1].([]any)
	if !ok1 || !ok2 {
		return "", fmt.Errorf("malformed Fn::Join %v", arg)
	}
	strs := make([]string, len(parts))
	for i, p := range parts {
		var err error
		if strs[i], err = r.resolveString(p); err != nil {
			return "", err
		}
	}
	return strings.Join(strs, sep), nil
}

func (r *resolver) bucketName(id string) string {
	if id == r.bucket {
		return testBucketName
	}
	return strings.ToLower(id)
}
