// Command preflight runs before the Makefile's live CDK commands (bootstrap,
// diff-live, deploy, destroy). It checks, without calling the CDK, that the
// named stacks exist in cdk.json and that the AWS SDK finds credentials and
// a region; when something is missing it prints one line saying what, how to
// supply it and which account/region the stacks target, and exits non-zero.
// Without it the CDK CLI prints "Unable to resolve AWS account to use" twice
// and nothing else.
//
//	go run ./internal/tools/preflight -action deploy -stacks S3Vend-dev
//
// Credentials are resolved with aws-sdk-go-v2's default chain, the same
// sources the CDK CLI reads (environment, AWS_PROFILE with SSO or
// assume-role, web identity, container and EC2 instance metadata). The EC2
// instance metadata service (IMDS) is the chain's last source: on a laptop
// it is unreachable, so the whole check is bounded by -timeout
// (AWS_EC2_METADATA_DISABLED=true skips it). CI runners that use GitHub OIDC
// get environment credentials from aws-actions/configure-aws-credentials and
// never reach IMDS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/s3vend/s3vend/config"
)

// Exit codes.
const (
	exitOK       = 0
	exitNoCreds  = 1 // credentials or region missing
	exitBadInput = 2 // usage, cdk.json, unknown stack
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("preflight", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cdkJSON := fs.String("cdk-json", "cdk.json", "the app's cdk.json")
	sel := fs.String("stacks", "", "comma-separated stack names (empty: every stack), as make's STACK=")
	action := fs.String("action", "deploy", "what make is about to do, for the message")
	timeout := fs.Duration("timeout", 5*time.Second, "bound on resolving credentials (IMDS on a laptop)")
	need := fs.Bool("require-stacks", false, "refuse an empty -stacks (deploy and destroy name their stacks)")
	if err := fs.Parse(args); err != nil {
		return exitBadInput
	}
	say := func(format string, a ...any) {
		fmt.Fprintln(stderr, "s3vend: "+oneLine(fmt.Sprintf(format, a...)))
	}

	targets, err := stackTargets(*cdkJSON, *sel)
	if err != nil {
		say("%v", err)
		return exitBadInput
	}
	if *need && strings.TrimSpace(strings.ReplaceAll(*sel, ",", "")) == "" {
		say("make %s needs STACK=<stack> (comma-separated for several), one of %s", *action, strings.Join(targets.names, ", "))
		return exitBadInput
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	profile := os.Getenv("AWS_PROFILE")
	if profile == "" {
		profile = os.Getenv("AWS_DEFAULT_PROFILE")
	}
	how := "set AWS_PROFILE=<profile> (run `aws sso login --profile <profile>` first for an SSO profile), " +
		"or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials)"
	if profile != "" {
		how = fmt.Sprintf("check profile %q in ~/.aws/config; for SSO run `aws sso login --profile %s`; "+
			"or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN)", profile, profile)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		say("no usable AWS configuration for make %s of %s (%s): %s", *action, targets, short(err), how)
		return exitNoCreds
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || !creds.HasKeys() {
		// Without a profile the chain's error is its last source's (IMDS),
		// which says nothing about what the user should do.
		cause := "none found in the environment, ~/.aws or instance metadata"
		if err != nil && profile != "" {
			cause = short(err)
		}
		say("no AWS credentials for make %s of %s (%s): %s", *action, targets, cause, how)
		return exitNoCreds
	}
	if cfg.Region == "" && targets.needRegion {
		say("no AWS region for make %s of %s: export AWS_REGION=<region> or set region in the profile", *action, targets)
		return exitNoCreds
	}
	fmt.Fprintf(stderr, "s3vend: make %s of %s with credentials from %s (region %s)\n", *action, targets, creds.Source, orNone(cfg.Region))
	return exitOK
}

// targets describes where the selected stacks go.
type targets struct {
	names      []string // "S3Vend-dev"
	list       []string // "S3Vend-dev (account/region of your credentials)"
	needRegion bool     // some stack takes its region from the credentials
}

func (t targets) String() string { return strings.Join(t.list, ", ") }

// stackTargets reads cdk.json's s3vend context with the app's own parser and
// selection (config.Parse, Config.Select), so an unknown stack is
// refused with the same message as the synth.
func stackTargets(path, sel string) (targets, error) {
	doc, err := config.ReadCDKJSON(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return targets{}, fmt.Errorf("cannot read %s: %w (run make from the project root)", path, err)
	} else if err != nil {
		return targets{}, err
	}
	cfg, err := config.Parse(doc[config.ContextKey])
	if err != nil {
		return targets{}, err
	}
	if cfg, err = cfg.Select(sel); err != nil {
		return targets{}, err
	}
	var t targets
	for _, name := range cfg.Names() {
		e := cfg.Environments[name]
		t.names = append(t.names, config.StackName(name))
		t.list = append(t.list, config.StackName(name)+" ("+where(e.Account, e.Region)+")")
		if e.Region == "" {
			t.needRegion = true
		}
		if e.Edge.Enabled {
			t.names = append(t.names, config.EdgeACLStackName(name))
			t.list = append(t.list, config.EdgeACLStackName(name)+" ("+where(e.Account, config.EdgeACLRegion)+")")
		}
	}
	if c := cfg.CICD; c != nil {
		t.names = append(t.names, config.CICDStackName)
		t.list = append(t.list, config.CICDStackName+" ("+where(c.Account, c.Region)+")")
		if c.Region == "" {
			t.needRegion = true
		}
	}
	return t, nil
}

func where(account, region string) string {
	switch {
	case account != "" && region != "":
		return "account " + account + ", region " + region
	case account != "":
		return "account " + account + ", the region of your credentials"
	case region != "":
		return "the account of your credentials, region " + region
	}
	return "the account and region of your credentials"
}

// short is the first line of an SDK error, without the SDK's chain of
// wrapped provider errors.
func short(err error) string {
	var nested interface{ Unwrap() error }
	for errors.As(err, &nested) && nested.Unwrap() != nil && len(err.Error()) > 160 {
		err = nested.Unwrap()
	}
	s := oneLine(err.Error())
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func orNone(s string) string {
	if s == "" {
		return "from the stack"
	}
	return s
}
