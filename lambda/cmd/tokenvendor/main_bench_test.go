package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/lambda/internal/fakes"
)

// These benchmarks build and exec the real binary; they run only under -bench.

const hsKey = "bench-key-bench-key-bench-key-bench-key"

func build(b *testing.B, goos, goarch string) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags", "lambda.norpc", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, msg)
	}
	return out
}

// BenchmarkBootstrapSize reports the stripped linux/arm64 Lambda binary size (target ≤ 12 MB).
func BenchmarkBootstrapSize(b *testing.B) {
	bin := build(b, "linux", "arm64")
	st, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(st.Size())/(1<<20), "MiB")
}

type fakeAWS struct {
	cognito *fakes.Cognito
	env     []string
}

func startFakes(b *testing.B) fakeAWS {
	cog := &fakes.Cognito{}
	sec := &fakes.Secrets{SecretString: `{"hs256Key":"` + hsKey + `"}`}
	c := httptest.NewServer(cog.Handler())
	s := httptest.NewServer(sec.Handler())
	st := httptest.NewServer((&fakes.STS{}).Handler())
	b.Cleanup(func() { c.Close(); s.Close(); st.Close() })
	env := append(os.Environ(),
		"AWS_REGION=eu-west-1",
		"AWS_ACCESS_KEY_ID=AKIDFAKE", "AWS_SECRET_ACCESS_KEY=fake", "AWS_CA_BUNDLE=",
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY="+c.URL, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+s.URL, "AWS_ENDPOINT_URL_STS="+st.URL,
		"S3VEND_IDENTITY_POOL_ID=eu-west-1:0d4f7c2e-1111-2222-3333-444455556666",
		"S3VEND_DEVELOPER_PROVIDER=login.s3vend",
		"S3VEND_AUTH_ROLE_ARN=arn:aws:iam::123456789012:role/auth",
		"S3VEND_GUESTS_ENABLED=false",
		"S3VEND_SECRET_ARN=arn:aws:secretsmanager:eu-west-1:123456789012:secret:s3vend",
		`S3VEND_VERIFIERS={"hs256":{"name":"backend","issuer":"https://api.example.com","audience":"s3vend"},"oidc":[{"name":"google","issuer":"https://accounts.google.com","audiences":["x"]}]}`,
	)
	return fakeAWS{cognito: cog, env: env}
}

// start execs the binary and returns its base URL once /healthz answered,
// and the exec→first response time.
func start(b *testing.B, bin string, env []string) (*exec.Cmd, string, time.Duration) {
	b.Helper()
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0")
	cmd.Env = env
	stdout, _ := cmd.StdoutPipe()
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	var addr string
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			addr = line.Addr
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if addr == "" {
		b.Fatal("binary did not start")
	}
	url := "http://" + addr
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, url, time.Since(t0)
			}
		}
		if time.Since(t0) > 5*time.Second {
			b.Fatal("no response from /healthz")
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkStartup measures exec → first served /healthz response of the
// local binary, including config parsing and the Secrets Manager read
// (target < 50 ms).
func BenchmarkStartup(b *testing.B) {
	bin := build(b, "", "")
	f := startFakes(b)
	var ds []time.Duration
	for b.Loop() {
		cmd, _, d := start(b, bin, f.env)
		ds = append(ds, d)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkRSSAfter10k reports the resident set size of the local binary
// after serving 10,000 POST /v1/token requests.
func BenchmarkRSSAfter10k(b *testing.B) {
	bin := build(b, "", "")
	f := startFakes(b)
	// The reuse cache off: every one of the 10,000 requests makes its own
	// Cognito call (unset, the cache is on and one call serves them all).
	cmd, url, _ := start(b, bin, append(f.env, contract.EnvCacheEnabled+"=false"))
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "https://api.example.com", "aud": "s3vend", "sub": "u",
		"iat": now.Unix(), "exp": now.Add(4 * time.Minute).Unix()})
	s, _ := tok.SignedString([]byte(hsKey))
	body := `{"provider":"backend","credential":"` + s + `"}`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < 10000; i += 8 {
					req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/v1/token", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs <- fmt.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	if n := f.cognito.Calls("GetOpenIdTokenForDeveloperIdentity"); n < 10000 {
		b.Fatalf("only %d upstream calls", n)
	}
	b.ReportMetric(rssMiB(b, cmd.Process.Pid), "RSS-MiB")
}

func rssMiB(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skip("no /proc")
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return float64(kb) / 1024
		}
	}
	b.Fatal("VmRSS not found")
	return 0
}
