// Command s3vend-local runs an s3vend stack on this machine: the stand-ins of
// S3, Cognito Identity, STS and WeChat (internal/standin) and the real token
// vendor behind an API Gateway stand-in, configured from a synthesized
// template. Nothing calls AWS.
//
//	go run ./cmd/s3vend-local [-env dev] [-template cdk.out/S3Vend-dev.template.json] [-dir .build/local]
//
// It writes <dir>/env.sh (the client environment), <dir>/outputs.json (as
// `cdk deploy --outputs-file` does) and <dir>/secrets.local.json (the
// vendor's secrets: hs256Key signs test logins), prints a recipe, streams the
// vendor's JSON logs and runs until SIGINT/SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/s3vend/s3vend/internal/dynamotest"
	"github.com/s3vend/s3vend/internal/platform"
	"github.com/s3vend/s3vend/internal/standin"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "s3vend-local:", err)
		os.Exit(1)
	}
}

type options struct {
	env, template, dir, node string
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("s3vend-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.env, "env", "dev", "environment: the stack is S3Vend-<env>")
	fs.StringVar(&o.template, "template", "", "synthesized template (default cdk.out/S3Vend-<env>.template.json)")
	fs.StringVar(&o.dir, "dir", ".build/local", "directory for the CA, env.sh, outputs.json, secrets.local.json and the vendor binary")
	fs.StringVar(&o.node, "node", "", "Node 24 binary (default $NODE24, else this platform's under ./node_modules)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.template == "" {
		o.template = filepath.Join("cdk.out", "S3Vend-"+o.env+".template.json")
	}
	if o.node == "" {
		// $NODE24, else this platform's pinned package (internal/platform).
		n, err := platform.Node24(".")
		if err != nil {
			return o, err
		}
		o.node = n
	}
	abs, err := filepath.Abs(o.node)
	if err != nil {
		return o, err
	}
	o.node = abs
	// The paths it prints and writes into env.sh must work from anywhere.
	if o.dir, err = filepath.Abs(o.dir); err != nil {
		return o, err
	}
	if _, err := os.Stat(o.node); err != nil {
		return o, fmt.Errorf("node: %w (run make synth or npm ci first, or pass -node)", err)
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(o.template)
	if err != nil {
		return fmt.Errorf("%w (synthesize first: make synth)", err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(b, &tmpl); err != nil {
		return fmt.Errorf("%s: %w", o.template, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := standin.ModuleRoot(".")
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "building the token vendor ...")
	vendor, err := standin.BuildVendor(ctx, root, o.dir)
	if err != nil {
		return err
	}
	so := standin.StackOptions{Template: tmpl, Node: o.node, VendorBinary: vendor, WorkDir: o.dir, VendorLog: stdout}
	// Abuse control (revocation, quota, metering) needs a DynamoDB engine:
	// moto's server when this machine has python3 with moto, else off.
	if eng, err := dynamotest.Start(ctx); err == nil {
		defer eng.Close()
		so.DynamoDB, so.IAM = eng.URL, eng.URL
		fmt.Fprintln(stderr, "abuse control: tables and IAM in moto's server at "+eng.URL)
	} else {
		fmt.Fprintln(stderr, "abuse control off (no revocation check, no quota): "+err.Error())
	}
	st, err := standin.StartStack(ctx, so)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := writeFiles(st, o); err != nil {
		return err
	}
	printRecipe(stderr, st, o)
	<-ctx.Done()
	fmt.Fprintln(stderr, "stopping ...")
	return nil
}

// writeFiles writes env.sh and outputs.json (secrets.local.json is the
// stack's own SecretsFile in the same directory).
func writeFiles(st *standin.Stack, o options) error {
	var sb strings.Builder
	sb.WriteString("# s3vend-local client environment: source it\n")
	for _, kv := range st.ClientEnv() {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&sb, "export %s=%s\n", k, shellQuote(v))
	}
	if err := os.WriteFile(filepath.Join(o.dir, "env.sh"), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	out, err := json.MarshalIndent(map[string]any{"S3Vend-" + o.env: st.Outputs()}, "", "  ")
	if err != nil {
		return err
	}
	if filepath.Base(st.SecretsFile) != "secrets.local.json" || filepath.Dir(st.SecretsFile) != filepath.Clean(o.dir) {
		return errors.New("secrets file is not in the output directory")
	}
	return os.WriteFile(filepath.Join(o.dir, "outputs.json"), append(out, '\n'), 0o644)
}

// credsToEnv turns a /v1/credentials answer into export lines.
const credsToEnv = `python3 -c 'import json,sys; c=json.load(sys.stdin); print("export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s ID=%s" % (c["accessKeyId"], c["secretAccessKey"], c["sessionToken"], c["identityId"]))'`

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func printRecipe(w io.Writer, st *standin.Stack, o options) {
	fmt.Fprintf(w, "\ns3vend local stack S3Vend-%s (%s, %s) is up. Nothing here calls AWS.\n", o.env, st.Region, st.Partition)
	fmt.Fprintf(w, "  token endpoint  %s/v1/token\n  S3 (path-style) %s/%s\n  Cognito         %s\n  STS             %s\n", st.VendorURL, st.S3URL, st.BucketName, st.CognitoURL, st.STSURL)
	fmt.Fprintf(w, "  outputs         %s\n\n", filepath.Join(o.dir, "outputs.json"))
	fmt.Fprintf(w, "  source %s\n", filepath.Join(o.dir, "env.sh"))
	if h := st.HS256; h != nil {
		fmt.Fprintf(w, "  LOGIN=$(go run ./cmd/s3vend dev-login --secrets-file %s --issuer %s --audience %s --subject alice)\n",
			filepath.Join(o.dir, "secrets.local.json"), h.Issuer, h.Audience)
		fmt.Fprintf(w, "  curl -s $S3VEND_ENDPOINT/v1/token -H 'content-type: application/json' -d '{\"provider\":\"%s\",\"credential\":\"'$LOGIN'\"}'\n", h.Name)
	}
	if st.WeChatProvider != "" {
		fmt.Fprintf(w, "  CODE=$(curl -s '%s/dev/code?openid=alice' | sed 's/.*\"code\":\"\\([^\"]*\\)\".*/\\1/')   # a wx.login code\n", st.WeChatURL)
		fmt.Fprintf(w, "  curl -s $S3VEND_ENDPOINT/v1/token -H 'content-type: application/json' -d '{\"provider\":\"%s\",\"credential\":\"'$CODE'\"}'\n", st.WeChatProvider)
	}
	fmt.Fprintf(w, "  curl --cacert $AWS_CA_BUNDLE $AWS_ENDPOINT_URL_S3/%s/public/hello.txt   # anonymous read of public/\n", st.BucketName)
	if h := st.HS256; h != nil {
		fmt.Fprintf(w, "  eval \"$(curl -s $S3VEND_ENDPOINT/v1/credentials -H 'content-type: application/json' -d '{\"provider\":\"%s\",\"credential\":\"'$LOGIN'\"}' | %s)\"   # basic flow\n", h.Name, credsToEnv)
		// Only the caller's own prefix may be listed: private/ itself is refused.
		fmt.Fprintf(w, "  aws s3 cp README.md s3://%s/private/$ID/README.md --endpoint-url $AWS_ENDPOINT_URL_S3\n", st.BucketName)
		fmt.Fprintf(w, "  aws s3 ls s3://%s/private/$ID/ --endpoint-url $AWS_ENDPOINT_URL_S3\n", st.BucketName)
	}
	fmt.Fprintf(w, "\nThe vendor's JSON logs follow. Ctrl-C stops everything.\n\n")
}
