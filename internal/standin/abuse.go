package standin

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/s3vend/s3vend/internal/dynamotest"
)

// Abuse control in the local stack (docs/abuse-control.md): the
// template's DynamoDB tables in a real DynamoDB-compatible engine
// (StackOptions.DynamoDB, e.g. internal/dynamotest's moto server), the SQS
// stand-in with the template's queues, the S3 stand-in sending the
// notifications the template configures to them, and the real metering
// binary polling its queue as the event source mapping would. Without an
// engine the vendor runs without its table variables (no revocation
// check, no quota) and Stack.AbuseControl is false.

// templateTables are the template's DynamoDB tables: logical id -> the
// name the model resolves (its logical id).
func templateTables(tpl map[string]any) []string {
	return slices.Sorted(maps.Keys(templateResources(tpl, "AWS::DynamoDB::Table")))
}

// meteringFunction returns the environment of the template's function
// that an SQS event source mapping feeds (the metering function), the
// queue it reads and its execution role (logical ids); ok is false
// without one.
func meteringFunction(tpl map[string]any) (env map[string]any, queue, role string, ok bool) {
	for _, props := range templateResources(tpl, "AWS::Lambda::EventSourceMapping") {
		fn := refTarget(props["FunctionName"])
		vars, _ := dig(tpl, "Resources", fn, "Properties", "Environment", "Variables").(map[string]any)
		return vars, refTarget(props["EventSourceArn"]), refTarget(dig(tpl, "Resources", fn, "Properties", "Role")), true
	}
	return nil, "", "", false
}

// createTables creates the template's tables in the engine at endpoint.
func (s *Stack) createTables(ctx context.Context, endpoint string) error {
	db := dynamodb.New(dynamodb.Options{
		Region: s.Region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIALOCALSTACKSETUP0", "local", ""),
		// moto's x-amz-crc32 does not match some bodies (see dynamotest).
		DisableValidateResponseChecksum: true,
	})
	for _, id := range templateTables(s.Model.Template()) {
		name := s.tablePrefix + id
		err := dynamotest.CreateTable(ctx, db, name)
		if err != nil && !strings.Contains(err.Error(), "ResourceInUseException") {
			return fmt.Errorf("standin: creating table %s: %w", name, err)
		}
		s.Tables = append(s.Tables, name)
	}
	return nil
}

// renameTables replaces, in a resolved environment, every value that is
// a table's resolved name (its logical id) with the engine's table name.
func (s *Stack) renameTables(env map[string]string) {
	if s.tablePrefix == "" {
		return
	}
	for k, v := range env {
		if slices.Contains(s.Tables, s.tablePrefix+v) {
			env[k] = s.tablePrefix + v
		}
	}
}

// BuildCommand builds a main package of the module (e.g.
// ./lambda/cmd/metering) for this host into outDir.
func BuildCommand(ctx context.Context, moduleDir, outDir, pkg string) (string, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	out, err := filepath.Abs(filepath.Join(outDir, filepath.Base(pkg)))
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("standin: go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// startMetering runs the metering binary in local mode on the template's
// metering queue, with the function's own environment (resolved).
func (s *Stack) startMetering(ctx context.Context, o StackOptions, vars map[string]any, queue, role string) error {
	resolved, err := s.Model.Resolve(vars)
	if err != nil {
		return fmt.Errorf("standin: resolving the metering function's environment: %w", err)
	}
	env := map[string]string{}
	for k, v := range resolved.(map[string]any) {
		if str, ok := v.(string); ok {
			env[k] = str
		}
	}
	s.renameTables(env)
	// The function's execution role, with the template's policies: the
	// SQS stand-in then grants it what the role grants (IAM, as the event
	// source mapping polls with the function's role).
	sess, err := s.calls.roleSession(role, "metering")
	if err != nil {
		return fmt.Errorf("standin: the metering function's role %s: %w", role, err)
	}
	sess.AccessKeyID, sess.SecretAccessKey = "AKIA"+strings.ToUpper(randomHex(8)), randomHex(20)
	s.Sessions.Put(sess)
	env["AWS_REGION"] = s.Region
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = sess.AccessKeyID, sess.SecretAccessKey
	env["AWS_ENDPOINT_URL_SQS"], env["AWS_ENDPOINT_URL_DYNAMODB"] = s.SQSURL, o.DynamoDB
	env["AWS_CA_BUNDLE"] = s.CAFile
	env["AWS_EC2_METADATA_DISABLED"] = "true"
	env["AWS_CONFIG_FILE"], env["AWS_SHARED_CREDENTIALS_FILE"] = os.DevNull, os.DevNull
	env["S3VEND_METERING_QUEUE_URL"] = s.SQS.QueueURL(queue)
	binary, err := s.localBinary(ctx, o.MeteringBinary, "./lambda/cmd/metering")
	if err != nil {
		return err
	}
	if s.metering, err = startProcess(binary, env, o.VendorLog, "the metering function"); err != nil {
		return err
	}
	return nil
}

// WaitMetered waits until the metering queue is empty (every notification
// applied and deleted), or fails after limit.
func (s *Stack) WaitMetered(limit time.Duration) error {
	if s.SQS == nil || s.meteringQueue == "" {
		return fmt.Errorf("standin: the stack has no metering")
	}
	deadline := time.Now().Add(limit)
	if refused := s.SQS.Refused(); len(refused) > 0 {
		return fmt.Errorf("standin: %d S3 notifications were refused by a queue policy: %s", len(refused), refused[0])
	}
	for s.SQS.Depth(s.meteringQueue) > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("standin: %d notifications still queued after %v; the metering function's output:\n%s",
				s.SQS.Depth(s.meteringQueue), limit, s.metering.tail.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}
