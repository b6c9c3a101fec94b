// Package e2e proves the whole client chain offline: login -> token vendor
// (the real binary) -> Cognito -> credentials -> S3 object under the right
// prefix, with the real clients users have: aws-sdk-go-v2 (client/), the
// s3vend CLI as an AWS CLI and boto3 credential_process, AWS SDK for
// JavaScript v3 in headless Chromium (examples/web) and the WeChat
// mini-program helper (examples/wechat-miniprogram) — all against the strict
// local stand-ins of internal/standin, configured from the synthesized
// templates (the golden snapshots, which TestSnapshots keeps equal to a fresh
// synthesis).
//
// The stacks and every binary are built once, in TestMain, and shared.
package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3vend/s3vend/internal/dynamotest"
	"github.com/s3vend/s3vend/internal/platform"
	"github.com/s3vend/s3vend/internal/platform/platformtest"
	"github.com/s3vend/s3vend/internal/standin"
)

var (
	moduleDir string
	node24    string
	binDir    string
	devStack  *standin.Stack // S3Vend-dev: hs256 + oidc, guests, basic flow, userQuota
	// engine is the DynamoDB-compatible engine (moto's server, which also
	// serves IAM) behind the stacks' abuse control; nil when this machine
	// has none (the abuse-control tests skip, or fail under make test).
	engine  *dynamotest.Engine
	cnStack *standin.Stack // S3Vend-prod-cn: cn-north-1, aws-cn, WeChat
	// rulesStack is S3Vend-rules: a custom access layout with {userId},
	// {tenant} (hs256 tenantClaim "org") and {identityId}.
	rulesStack *standin.Stack
	binaries   = map[string]string{}
	setupErr   error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// The end-to-end tier (real binaries, stand-ins, Chromium, the AWS
		// CLI, boto3): make test runs it, make check (-short) does not.
		os.Exit(m.Run())
	}
	code := func() int {
		var cleanup func()
		cleanup, setupErr = setup()
		if cleanup != nil {
			defer cleanup()
		}
		return m.Run()
	}()
	os.Exit(code)
}

func setup() (func(), error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	moduleDir = filepath.Clean(filepath.Join(wd, "..", ".."))
	if node24, err = platform.Node24(moduleDir); err != nil {
		return nil, fmt.Errorf("Node 24 for the IAM evaluator and the JS clients: %w", err)
	}
	tmp, err := os.MkdirTemp("", "s3vend-e2e-*")
	if err != nil {
		return nil, err
	}
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		os.RemoveAll(tmp)
	}
	binDir = filepath.Join(tmp, "bin")

	// Build every binary once, in parallel.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	build := func(name, pkg string) {
		defer wg.Done()
		out := filepath.Join(binDir, name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = moduleDir
		if b, err := cmd.CombinedOutput(); err != nil {
			mu.Lock()
			errs = append(errs, fmt.Errorf("go build %s: %v\n%s", pkg, err, b))
			mu.Unlock()
			return
		}
		mu.Lock()
		binaries[name] = out
		mu.Unlock()
	}
	wg.Add(5)
	go build("tokenvendor", "./lambda/cmd/tokenvendor")
	go build("metering", "./lambda/cmd/metering")
	go build("s3vend", "./cmd/s3vend")
	go build("go-multipart", "./examples/go-multipart")
	go build("s3vend-local", "./cmd/s3vend-local")
	wg.Wait()
	if len(errs) > 0 {
		return cleanup, errs[0]
	}
	switch e, err := dynamotest.Start(ctx); {
	case err == nil:
		engine = e
		closers = append(closers, e.Close)
	case dynamotest.Required():
		return cleanup, err
	}

	start := func(stack, dir string) (*standin.Stack, error) {
		tpl, err := readTemplate(filepath.Join(moduleDir, "test", "testdata", "snapshots", stack+".template.json"))
		if err != nil {
			return nil, err
		}
		log := io.Discard
		if os.Getenv("S3VEND_E2E_VENDOR_LOG") != "" {
			log = os.Stderr
		}
		o := standin.StackOptions{
			Template:       tpl,
			Node:           node24,
			VendorBinary:   binaries["tokenvendor"],
			MeteringBinary: binaries["metering"],
			WorkDir:        filepath.Join(tmp, dir),
			VendorLog:      log,
		}
		if engine != nil {
			o.DynamoDB, o.IAM, o.RevocationRefresh = engine.URL, engine.URL, time.Second
		}
		s, err := standin.StartStack(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("%s stand-ins: %w", stack, err)
		}
		closers = append(closers, func() { _ = s.Close() })
		return s, nil
	}
	if devStack, err = start("S3Vend-dev", "dev"); err != nil {
		return cleanup, err
	}
	if cnStack, err = start("S3Vend-prod-cn", "prod-cn"); err != nil {
		return cleanup, err
	}
	if rulesStack, err = start("S3Vend-rules", "rules"); err != nil {
		return cleanup, err
	}
	return cleanup, nil
}

// ready fails t when the shared set-up failed.
func ready(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the end-to-end tier runs in make test")
	}
	if setupErr != nil {
		t.Fatalf("set-up: %v", setupErr)
	}
}

// needTool is the host's real client name (internal/platform.Clients): its
// test skips without it, saying what was looked for and how to install it,
// or fails on CI (CI=true or S3VEND_E2E=require).
func needTool(t *testing.T, name string) string {
	t.Helper()
	return platformtest.NeedClient(t, name)
}

// run runs a command with env added to a minimal environment and returns its
// combined output; it fails t on a non-zero exit unless wantFail.
func run(t *testing.T, env []string, wantFail bool, name string, args ...string) string {
	t.Helper()
	out, code := runCode(t, env, name, args...)
	if wantFail && code == 0 {
		t.Fatalf("%s %s: succeeded, want failure\n%s", name, strings.Join(args, " "), out)
	}
	if !wantFail && code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", name, strings.Join(args, " "), code, out)
	}
	return out
}

// baseEnv is what every client process starts from: PATH and a private HOME,
// never the developer's AWS profiles or credentials.
func baseEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + binDir,
		"LANG=C.UTF-8",
	}
}

// runCode runs a command and returns its combined output and exit code.
func runCode(t *testing.T, env []string, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = moduleDir
	cmd.Env = append(baseEnv(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s: %v", name, err)
		}
		return string(out), ee.ExitCode()
	}
	return string(out), 0
}
