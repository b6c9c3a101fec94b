package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/s3vend/s3vend/client"
)

// Environment variables read as flag defaults.
const (
	envEndpoint          = "S3VEND_ENDPOINT"
	envOutputs           = "S3VEND_OUTPUTS"
	envStack             = "S3VEND_STACK"
	envProvider          = "S3VEND_PROVIDER"
	envCredential        = "S3VEND_CREDENTIAL"
	envCredentialCommand = "S3VEND_CREDENTIAL_COMMAND"
	envFlow              = "S3VEND_FLOW"
	envGuest             = "S3VEND_GUEST"
	envCacheDir          = "S3VEND_CACHE_DIR"
	envCacheKey          = "S3VEND_CACHE_KEY"
)

// vendorFlags are the flags shared by credential-process and token.
type vendorFlags struct {
	endpoint, outputs, stack string
	provider                 string
	credential, command      string
	commandTimeout, timeout  time.Duration
	guest                    bool
}

func (f *vendorFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.endpoint, "endpoint", os.Getenv(envEndpoint), "token endpoint, the stack's TokenEndpoint output `URL` (or the API base); wins over --outputs [$"+envEndpoint+"]")
	fs.StringVar(&f.outputs, "outputs", os.Getenv(envOutputs), "`file` written by cdk deploy --outputs-file; its TokenEndpoint is used when --endpoint is empty [$"+envOutputs+"]")
	fs.StringVar(&f.stack, "stack", os.Getenv(envStack), "`stack` in --outputs, e.g. S3Vend-dev; may be empty when the file has one stack [$"+envStack+"]")
	fs.StringVar(&f.provider, "provider", os.Getenv(envProvider), "login `provider`: the name of one of the vendor's verifiers [$"+envProvider+"]")
	fs.StringVar(&f.credential, "credential", "", "login `credential` (ID token, WeChat code, backend JWT). VISIBLE TO OTHER USERS in ps: prefer $"+envCredential+" or --credential-command")
	fs.StringVar(&f.command, "credential-command", "", "`command` run with /bin/sh -c whose trimmed stdout is the login credential [$"+envCredentialCommand+"]")
	fs.DurationVar(&f.commandTimeout, "credential-timeout", 30*time.Second, "time limit of --credential-command")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "time limit of the vendor (with retries) and Cognito calls")
	guest, _ := strconv.ParseBool(os.Getenv(envGuest))
	fs.BoolVar(&f.guest, "guest", guest, "get guest (unauthenticated) credentials from /v1/guest; no login [$"+envGuest+"]")
}

// resolveEndpoint returns the token endpoint from --endpoint or --outputs.
func (f *vendorFlags) resolveEndpoint() (string, error) {
	if f.endpoint != "" {
		return f.endpoint, nil
	}
	if f.outputs == "" {
		return "", usageErrorf("no token endpoint: set --endpoint or --outputs (or $%s, $%s)", envEndpoint, envOutputs)
	}
	o, err := client.LoadOutputs(f.outputs, f.stack)
	if err != nil {
		return "", &usageError{err.Error()}
	}
	return o.TokenEndpoint, nil
}

// credentialSource is where the login credential comes from.
//
// The disk cache of credential-process must never return credentials of a
// login other than the one that would be obtained now, so its key holds what
// determines the login (issue 16): fixed is set when the source alone does
// (guest; a static credential, by its SHA-256 digest, never the credential
// itself). A command's text does not: its output may depend on the
// environment, files or a prompt (`my-login --user "$APP_USER"`), so a
// command is keyed by the digest of what it printed this time (it runs on
// every call), or by the --cache-key its user names as what determines the
// login (then it runs only on a miss).
type credentialSource struct {
	fixed   string
	command string // the command's text; "" unless the credential comes from a command
	get     func(ctx context.Context) (string, error)
}

func (f *vendorFlags) credentialSource() (*credentialSource, error) {
	if f.guest {
		if f.credential != "" || f.command != "" {
			return nil, usageErrorf("--guest takes no login credential")
		}
		return &credentialSource{fixed: "guest"}, nil
	}
	if f.provider == "" {
		return nil, usageErrorf("--provider (or $%s) is required unless --guest", envProvider)
	}
	if f.credential != "" && f.command != "" {
		return nil, usageErrorf("use one of --credential and --credential-command")
	}
	static := func(cred, from string) *credentialSource {
		return &credentialSource{
			fixed: from + ":" + credentialDigest(cred),
			get:   func(context.Context) (string, error) { return cred, nil },
		}
	}
	fromCommand := func(cmd string) *credentialSource {
		return &credentialSource{
			command: cmd,
			get:     func(ctx context.Context) (string, error) { return runCredentialCommand(ctx, cmd, f.commandTimeout) },
		}
	}
	switch {
	case f.credential != "":
		return static(f.credential, "flag"), nil
	case f.command != "":
		return fromCommand(f.command), nil
	case os.Getenv(envCredential) != "":
		return static(os.Getenv(envCredential), "env"), nil
	case os.Getenv(envCredentialCommand) != "":
		return fromCommand(os.Getenv(envCredentialCommand)), nil
	}
	return nil, usageErrorf("no login credential: set --credential-command, $%s, $%s or --credential", envCredential, envCredentialCommand)
}

// credentialDigest names a bearer credential in a cache key by a one-way
// SHA-256 digest, never the credential itself.
func credentialDigest(cred string) string {
	sum := sha256.Sum256([]byte(cred))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// runCredentialCommand runs cmd with /bin/sh -c, with env added to ours,
// and returns its trimmed stdout. Its stderr goes to ours (it may prompt or
// explain a failure).
func runCredentialCommand(ctx context.Context, cmd string, timeout time.Duration, env ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	if len(env) > 0 {
		c.Env = append(os.Environ(), env...)
	}
	c.Stderr = os.Stderr
	c.WaitDelay = time.Second
	killGroupOnCancel(c)
	out, err := c.Output()
	if ctx.Err() != nil {
		return "", &credentialSourceError{fmt.Errorf("timed out after %v", timeout)}
	}
	if err != nil {
		return "", &credentialSourceError{err}
	}
	cred := strings.TrimSpace(string(out))
	if cred == "" {
		return "", &credentialSourceError{errors.New("it printed nothing")}
	}
	return cred, nil
}

// login adapts a credential source to client.LoginFunc.
func login(provider string, src *credentialSource) client.LoginFunc {
	if src.get == nil {
		return nil
	}
	return func(ctx context.Context) (string, string, error) {
		cred, err := src.get(ctx)
		return provider, cred, err
	}
}

// parseFlags parses args into fs, turning flag errors into usage errors and
// -h into the command's help on stdout.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printFlags(fs, stdout)
			return err
		}
		return usageErrorf("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func printFlags(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: s3vend %s [flags]\n\n%s\n\nFlags:\n", fs.Name(), commandHelp[fs.Name()])
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

var commandHelp = map[string]string{
	"credential-process": "Prints AWS credential_process JSON (Version 1, AccessKeyId, SecretAccessKey, SessionToken,\n" +
		"Expiration in RFC 3339) for a profile's credential_process setting. The result is cached on disk\n" +
		"(directory 0700, file 0600) and reused while it has more than --min-remaining left, keyed by what\n" +
		"determines the login: a static credential's digest, the digest of what --credential-command printed\n" +
		"(the command runs on every call), or --cache-key (then the command runs only on a miss).",
	"token": "Prints the vendor's /v1/token response (identityId, token, expiresAt, identityPoolId, region,\nloginKey), or with --guest the /v1/guest response. The output holds a bearer token.",
	"smoke": "Checks a deployed S3Vend-<env> stack as its clients use it and prints a pass/fail table: token and\n" +
		"credentials (enhanced and basic flow), put/get/delete under private/<id>/ and protected/<id>/, refusals\n" +
		"(another user's private/, writing public/, listing private/ or the bucket root), anonymous and guest reads of\n" +
		"public/. Two test users sign in: hs256 assertions signed with the verifier secret's key (issuer and audience\n" +
		"from cdk.json), or --credential-command run once per login with $S3VEND_SMOKE_USER=a or b. Deletes what it\n" +
		"wrote. Exit 0 when no check failed, 1 when one did, 2 when an input (stack, output, credential) is missing.",
	"dev-login": "Prints a short-lived HS256 JWT for the vendor's hs256 verifier, signed with the hs256Key of the\nverifier secret (for local development and tests; a real backend mints it itself).",
}

func flagSets() map[string]*flag.FlagSet {
	return map[string]*flag.FlagSet{
		"credential-process": newCredentialProcessFlags(&credentialProcessFlags{}),
		"token":              newTokenFlags(&vendorFlags{}),
		"dev-login":          newDevLoginFlags(&devLoginFlags{}),
		"smoke":              newSmokeFlags(&smokeFlags{}),
	}
}
