package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// GoBuild describes how a Go Lambda is compiled: always locally with the Go
// toolchain (no Docker), for linux/arm64, statically, reproducibly.
type GoBuild struct {
	ModuleDir string // directory holding go.mod
	Package   string // e.g. "./lambda/cmd/tokenvendor"
	// SourceDir is the asset's source directory, e.g. "lambda". It names the
	// asset only: the hash covers every module package the build compiles,
	// inside SourceDir or not (the vendor imports the root contract/).
	SourceDir string
	// GoVersion is the toolchain that builds, as `go env GOVERSION` prints
	// it (e.g. "go1.26.1"); "" asks the go command in ModuleDir. Tests set it.
	GoVersion string
}

// buildFlags are part of the asset hash: a change of flags is a new asset.
var buildFlags = []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags=lambda.norpc"}

var buildEnv = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}

// SourceHash hashes what decides the binary: the toolchain version, the
// target and build flags, go.mod, go.sum, and the Go files (and embedded
// files) of the module's own packages that Package imports for the target,
// as `go list -deps` resolves them with the same GOOS, GOARCH, CGO and tags
// as the build. Tests, testdata and test-only packages (lambda/internal/fakes)
// are not in the import graph, so editing them redeploys nothing; a new Go
// release (a security fix in the standard library) is a new asset. The hash
// is independent of the machine, the Go cache and file times; snapshots
// blank it (test/snapshot_test.go), so they stay stable across Go versions.
func (g GoBuild) SourceHash() (string, error) {
	goVersion := g.GoVersion
	if goVersion == "" {
		out, err := g.goCmd("env", "GOVERSION")
		if err != nil {
			return "", err
		}
		goVersion = strings.TrimSpace(out)
	}
	files, err := g.sourceFiles()
	if err != nil {
		return "", err
	}
	modDir, err := filepath.Abs(g.ModuleDir) // go list prints absolute paths
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", goVersion, g.Package, strings.Join(buildEnv, " "), strings.Join(buildFlags, " "))
	files = append(files, filepath.Join(modDir, "go.mod"), filepath.Join(modDir, "go.sum"))
	sort.Strings(files)
	for _, f := range files {
		rel, err := filepath.Rel(modDir, f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		if err := hashFile(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// depsTemplate prints the Go and embedded files of every main-module
// package in the import graph, one absolute path a line.
const depsTemplate = `{{if and .Module .Module.Main}}{{range .GoFiles}}{{$.Dir}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$.Dir}}/{{.}}
{{end}}{{end}}`

// sourceFiles lists the module's own files that the build compiles (about
// 0.4 s of go list for the token vendor with a warm module cache).
func (g GoBuild) sourceFiles() ([]string, error) {
	out, err := g.goCmd("list", "-deps", "-tags=lambda.norpc", "-f", depsTemplate, g.Package)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			files = append(files, filepath.FromSlash(line))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("hashing %s: go list found no Go sources in the module", g.Package)
	}
	return files, nil
}

// goCmd runs the go command in ModuleDir with the build's target environment.
func (g GoBuild) goCmd(args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = g.ModuleDir
	cmd.Env = append(os.Environ(), buildEnv...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s (in %s): %w: %s", strings.Join(args, " "), g.ModuleDir, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// TryBundle implements awscdk.ILocalBundling: it runs go build into the
// asset output directory. It never falls back to Docker.
func (g GoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	args := append(append([]string{}, buildFlags...), "-o", filepath.Join(*outputDir, "bootstrap"), g.Package)
	cmd := exec.Command("go", args...)
	cmd.Dir = g.ModuleDir
	cmd.Env = append(os.Environ(), buildEnv...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		// Returning false would make CDK try Docker, which s3vend never uses.
		panic(fmt.Errorf("go build %s for linux/arm64 failed: %w", g.Package, err))
	}
	return jsii.Bool(true)
}

// hashes memoizes SourceHash per GoBuild for the synth process: every
// environment's stack builds the same function from the same sources.
var hashes sync.Map // GoBuild -> string

// code returns the Lambda code asset: bundled locally, hashed from sources.
func (g GoBuild) code() (*awscdk.BundlingOptions, string) {
	var hash string
	if h, ok := hashes.Load(g); ok {
		hash = h.(string)
	} else {
		var err error
		if hash, err = g.SourceHash(); err != nil {
			panic(err)
		}
		hashes.Store(g, hash)
	}
	return &awscdk.BundlingOptions{
		// Required by the API, never pulled: TryBundle always succeeds or fails the synth.
		Image: awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-only")),
		Local: &g,
	}, hash
}

// logsAndRole creates a Go function's log group and its role, which may
// write to that log group and nothing else yet (the caller adds its
// grants): one shape for the token vendor and the metering function.
func logsAndRole(c constructs.Construct, logsID, roleID, roleDescription string, retention awslogs.RetentionDays, removal awscdk.RemovalPolicy) (awslogs.LogGroup, awsiam.Role) {
	logs := awslogs.NewLogGroup(c, jsii.String(logsID), &awslogs.LogGroupProps{Retention: retention, RemovalPolicy: removal})
	role := awsiam.NewRole(c, jsii.String(roleID), &awsiam.RoleProps{
		Description: jsii.String(roleDescription),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logs.LogGroupArn()),
	}))
	return logs, role
}

// function is the Lambda function of g: provided.al2023 on arm64, the
// bootstrap built locally into an asset whose hash is derived from the
// sources (code), JSON logs into logs.
func (g GoBuild) function(c constructs.Construct, id, description string, role awsiam.Role, logs awslogs.ILogGroup,
	timeout time.Duration, memoryMB int, env map[string]*string) awslambda.Function {
	bundling, hash := g.code()
	fn := awslambda.NewFunction(c, jsii.String(id), &awslambda.FunctionProps{
		Description:  jsii.String(description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code: awslambda.Code_FromAsset(jsii.String(g.ModuleDir+"/"+g.SourceDir), &awss3assets.AssetOptions{
			AssetHash:     jsii.String(hash),
			AssetHashType: awscdk.AssetHashType_CUSTOM,
			Bundling:      bundling,
		}),
		Role:          role,
		LogGroup:      logs,
		Timeout:       awscdk.Duration_Seconds(jsii.Number(timeout.Seconds())),
		MemorySize:    jsii.Number(float64(memoryMB)),
		Environment:   &env,
		LoggingFormat: awslambda.LoggingFormat_JSON,
	})
	dropRoleDependsOn(fn, role) // cfn-lint W3005: the Role GetAtt already orders them
	return fn
}
