package standin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/accessmatrix"
	"github.com/s3vend/s3vend/internal/platform"
)

// BuildVendor builds the real token vendor (./lambda/cmd/tokenvendor of the
// module in moduleDir) for this host into outDir and returns the binary's path.
func BuildVendor(ctx context.Context, moduleDir, outDir string) (string, error) {
	return BuildCommand(ctx, moduleDir, outDir, "./lambda/cmd/tokenvendor")
}

// ModuleRoot is the directory of the go.mod above dir.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("standin: no go.mod above the working directory")
		}
		dir = parent
	}
}

// secretsFile is the vendor's S3VEND_SECRETS_FILE document.
type secretsFile struct {
	WeChatAppSecret string `json:"wechatAppSecret"`
	HS256Key        string `json:"hs256Key"`
}

// FunctionEnvironments are the Environment.Variables of the template's
// AWS::Lambda::Function resources, in logical-id order: the maps of the
// template itself, so a test may change a variable before StartStack.
func FunctionEnvironments(template map[string]any) []map[string]any {
	functions := templateResources(template, "AWS::Lambda::Function")
	var out []map[string]any
	for _, id := range slices.Sorted(maps.Keys(functions)) {
		if vars, ok := dig(functions[id], "Environment", "Variables").(map[string]any); ok {
			out = append(out, vars)
		}
	}
	return out
}

// vendorFunction finds the token vendor's AWS::Lambda::Function: the one
// whose environment names the identity pool.
func vendorFunction(template map[string]any) (map[string]any, error) {
	for _, vars := range FunctionEnvironments(template) {
		if _, ok := vars[contract.EnvIdentityPoolID]; ok {
			return vars, nil
		}
	}
	return nil, errors.New("standin: the template has no token vendor function (an AWS::Lambda::Function with " + contract.EnvIdentityPoolID + ")")
}

// vendorConfig is the vendor's environment derived from the template.
type vendorConfig struct {
	env       map[string]string // resolved template variables, local overrides applied
	verifiers contract.Verifiers
}

// localVendorConfig resolves the vendor function's environment with the
// model's test values, drops the Secrets Manager ARN for a local secrets
// file and points the WeChat verifier at weChatURL. Variables it does not
// know are passed through, resolved.
func localVendorConfig(m *accessmatrix.Model, secretsPath, weChatURL string) (vendorConfig, error) {
	vars, err := vendorFunction(m.Template())
	if err != nil {
		return vendorConfig{}, err
	}
	resolved, err := m.Resolve(vars)
	if err != nil {
		return vendorConfig{}, fmt.Errorf("standin: resolving the vendor's environment: %w", err)
	}
	cfg := vendorConfig{env: map[string]string{}}
	for k, v := range resolved.(map[string]any) {
		switch v := v.(type) {
		case string:
			cfg.env[k] = v
		case bool, float64:
			cfg.env[k] = fmt.Sprint(v)
		default:
			return vendorConfig{}, fmt.Errorf("standin: vendor variable %s is not a string after resolution: %v", k, v)
		}
	}
	delete(cfg.env, contract.EnvSecretARN)
	cfg.env[contract.EnvSecretsFile] = secretsPath
	raw := cfg.env[contract.EnvVerifiers]
	if raw == "" {
		raw = "{}"
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return vendorConfig{}, fmt.Errorf("standin: %s is not JSON: %w", contract.EnvVerifiers, err)
	}
	if w, ok := doc["wechat"].(map[string]any); ok {
		w["baseUrl"] = weChatURL
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return vendorConfig{}, err
	}
	cfg.env[contract.EnvVerifiers] = string(b)
	if cfg.verifiers, err = contract.ParseVerifiers(b, true); err != nil {
		return vendorConfig{}, fmt.Errorf("standin: %s: %w", contract.EnvVerifiers, err)
	}
	return cfg, nil
}

// vendorProcess is a function's binary running locally: the token vendor
// or the metering function.
type vendorProcess struct {
	cmd  *exec.Cmd
	URL  string // the vendor's; "" for the metering function
	tail *tailBuffer
	done chan struct{}
	err  error // the process's exit, after done
}

// startProcess runs binary with env (nothing inherited but PATH) in the
// temporary directory, keeping the tail of its output (and copying it to
// log); what names it in errors.
func startProcess(binary string, env map[string]string, log io.Writer, what string) (*vendorProcess, error) {
	list := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	sort.Strings(list)
	p := &vendorProcess{tail: &tailBuffer{max: 8 << 10}, done: make(chan struct{})}
	p.cmd = exec.Command(binary)
	p.cmd.Env = list
	p.cmd.Dir = os.TempDir()
	// On Linux the process dies with the process that started it, even when
	// a test binary is killed hard: no orphan keeps its port (platform.DieWithParent).
	p.cmd.SysProcAttr = platform.DieWithParent(nil)
	var out io.Writer = p.tail
	if log != nil {
		out = io.MultiWriter(p.tail, log)
	}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("standin: starting %s: %w", what, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

// startVendor runs the vendor (startProcess) and waits until GET /healthz
// answers.
func startVendor(ctx context.Context, binary string, env map[string]string, log io.Writer) (*vendorProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env[contract.EnvListen] = addr
	p, err := startProcess(binary, env, log, "the token vendor")
	if err != nil {
		return nil, err
	}
	p.URL = "http://" + addr
	if err := p.waitHealthy(ctx, 15*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *vendorProcess) waitHealthy(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/healthz", nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("standin: the token vendor exited (%v) before answering /healthz; its output:\n%s", p.err, p.tail.String())
		case <-ctx.Done():
			return fmt.Errorf("standin: the token vendor did not answer /healthz within %v; its output:\n%s", limit, p.tail.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop sends SIGINT (the vendor shuts down gracefully) and kills it after 5 s.
func (p *vendorProcess) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.buf.String())
}
