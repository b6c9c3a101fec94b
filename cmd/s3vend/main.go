// Command s3vend gets temporary S3 credentials from an s3vend token vendor.
//
//	s3vend credential-process   AWS credential_process JSON, cached on disk
//	s3vend token                the vendor's token (or guest) response
//	s3vend dev-login            mint a test login for the hs256 verifier
//	s3vend smoke                check a deployed environment (make smoke)
//
// Run `s3vend help` for flags, environment variables and exit codes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/client"
)

// Exit codes.
const (
	exitOK          = 0
	exitOther       = 1
	exitUsage       = 2
	exitRejected    = 3 // the vendor refused the login or request (4xx other than 429)
	exitUnavailable = 4 // vendor 429/5xx, network, timeout, Cognito
)

const usageText = `s3vend - temporary S3 credentials from an s3vend token vendor

Usage:
  s3vend credential-process [flags]   print AWS credential_process JSON (cached on disk)
  s3vend token [flags]                print the vendor's /v1/token (or, with --guest, /v1/guest) response
  s3vend dev-login [flags]            print a test login JWT for the vendor's hs256 verifier
  s3vend smoke --stack S3Vend-<env>   check a deployed environment end to end (pass/fail table)
  s3vend admin revoke|unrevoke|revoked|usage --stack S3Vend-<env> ...   revoke users, inspect usage (operators; docs/abuse-control.md)
  s3vend version                      print the version
  s3vend help [command]               print this help, or a command's flags

AWS profile (~/.aws/config):
  [profile s3vend]
  credential_process = s3vend credential-process --outputs /path/outputs.json --provider backend --credential-command "my-login --print-jwt"

Login credential, first found: --credential (visible to other users in ps), --credential-command
(run with /bin/sh -c; its trimmed stdout is the credential), $S3VEND_CREDENTIAL, $S3VEND_CREDENTIAL_COMMAND.
The credential and the tokens are never written to stderr.

Endpoints: Cognito Identity and S3 are reached through the standard AWS SDK settings
(AWS_ENDPOINT_URL_COGNITO_IDENTITY, AWS_ENDPOINT_URL_S3, AWS_CA_BUNDLE).

Exit codes: 0 ok, 1 other error (smoke: a check failed), 2 usage (smoke: a missing stack, output or credential), 3 login rejected (vendor 4xx such as invalid_credential,
unknown_provider), 4 upstream unavailable (vendor 429/5xx, network, timeout, Cognito).
Errors are one line on stderr: "s3vend: <what> (<code>)".
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{""}
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "credential-process":
		err = credentialProcess(ctx, rest, stdout, stderr)
	case "token":
		err = token(ctx, rest, stdout, stderr)
	case "dev-login":
		err = devLogin(rest, stdout)
	case "smoke":
		err = smokeCmd(ctx, rest, stdout)
	case "admin":
		err = adminCmd(ctx, rest, stdout)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "s3vend", version())
	case "help", "-h", "--help", "-help":
		err = help(rest, stdout)
	case "":
		err = usageErrorf("missing command; run 's3vend help'")
	default:
		err = usageErrorf("unknown command %q; run 's3vend help'", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		code, msg := classify(err)
		fmt.Fprintln(stderr, "s3vend: "+oneLine(msg))
		return code
	}
	return exitOK
}

func help(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usageText)
		return nil
	}
	if args[0] == "admin" {
		fmt.Fprint(stdout, adminUsage)
		return nil
	}
	fs, ok := flagSets()[args[0]]
	if !ok {
		return usageErrorf("no help for %q; commands: credential-process, token, dev-login, smoke, admin, version", args[0])
	}
	printFlags(fs, stdout)
	return nil
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	return v + " " + bi.GoVersion
}

// usageError is a bad command line (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// credentialSourceError is a failing --credential-command (exit 1).
type credentialSourceError struct{ err error }

func (e *credentialSourceError) Error() string { return "credential command failed: " + e.err.Error() }
func (e *credentialSourceError) Unwrap() error { return e.err }

// classify maps an error to an exit code and the text "<what> (<code>)".
// Every text it builds comes from the API's fixed-text fields, SDK error
// codes or local errors, none of which carry the credential or a token.
func classify(err error) (int, string) {
	var ue *usageError
	var ve *client.VendorError
	var cse *credentialSourceError
	var api smithy.APIError
	var sfe *smokeFailedError
	var mie *missingInputError
	var ce *capacityError
	switch {
	case errors.As(err, &ce):
		return exitRejected, ce.Error() + " (deny_full)"
	case errors.As(err, &mie):
		return exitUsage, mie.msg + " (missing_input)"
	case errors.As(err, &sfe):
		return exitOther, sfe.Error() + " (smoke_failed)"
	case errors.As(err, &ue):
		return exitUsage, ue.msg + " (usage)"
	case errors.As(err, &ve):
		what := ve.Message
		if what == "" {
			what = fmt.Sprintf("HTTP %d", ve.Status)
		}
		if ve.RequestID != "" {
			what += ", request id " + ve.RequestID
		}
		switch {
		case ve.Rejected():
			return exitRejected, "rejected by the token vendor: " + what + " (" + ve.Code + ")"
		case ve.Retryable() || ve.Status >= 500:
			return exitUnavailable, "token vendor unavailable: " + what + " (" + ve.Code + ")"
		}
		return exitOther, "unexpected token vendor answer: " + what + " (" + ve.Code + ")"
	case errors.Is(err, client.ErrCognito):
		code := "cognito_error"
		if errors.As(err, &api) {
			code = api.ErrorCode()
			return exitUnavailable, "cognito GetCredentialsForIdentity failed (" + code + ")"
		}
		return exitUnavailable, strings.TrimPrefix(err.Error(), "failed to refresh cached credentials, ") + " (" + code + ")"
	case errors.Is(err, client.ErrUnreachable):
		return exitUnavailable, err.Error() + " (unreachable)"
	case errors.Is(err, context.DeadlineExceeded):
		return exitUnavailable, "timed out waiting for the token vendor or Cognito (timeout)"
	case errors.As(err, &cse):
		return exitOther, cse.Error() + " (credential_command)"
	}
	return exitOther, err.Error() + " (error)"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
