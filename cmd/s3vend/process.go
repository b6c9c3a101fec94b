package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/s3vend/s3vend/client"
	"github.com/s3vend/s3vend/contract"
)

// defaultMinRemaining: a cached result is reused while it has more than this
// left. botocore (the AWS CLI and boto3) refreshes credential_process
// credentials inside its advisory window (_DEFAULT_ADVISORY_REFRESH_TIMEOUT
// = 15 * 60) and blocks on a refresh inside its mandatory window
// (_DEFAULT_MANDATORY_REFRESH_TIMEOUT = 10 * 60), botocore/credentials.py.
// Handing out credentials with less than 15 minutes left would make a
// long-lived boto3 session run this process again on every request, so the
// default stays outside the advisory window.
const defaultMinRemaining = 15 * time.Minute

type credentialProcessFlags struct {
	vendorFlags
	flow         string
	cacheDir     string
	cacheKey     string
	noCache      bool
	minRemaining time.Duration
}

func newCredentialProcessFlags(f *credentialProcessFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("credential-process", flag.ContinueOnError)
	f.register(fs)
	flow := os.Getenv(envFlow)
	if flow == "" {
		flow = "enhanced"
	}
	fs.StringVar(&f.flow, "flow", flow, "`flow`: enhanced (/v1/token + Cognito GetCredentialsForIdentity) or basic (/v1/credentials) [$"+envFlow+"]")
	fs.StringVar(&f.cacheDir, "cache-dir", os.Getenv(envCacheDir), "cache `directory` (default <user cache dir>/s3vend) [$"+envCacheDir+"]")
	fs.StringVar(&f.cacheKey, "cache-key", os.Getenv(envCacheKey), "with --credential-command: `text` that determines whose login the command prints (e.g. \"$APP_USER\"); the command then runs only on a cache miss. Without it the command runs on every call and the cache is keyed by what it printed [$"+envCacheKey+"]")
	fs.BoolVar(&f.noCache, "no-cache", false, "neither read nor write the disk cache")
	fs.DurationVar(&f.minRemaining, "min-remaining", defaultMinRemaining, "reuse cached credentials while they have more than this `duration` left (botocore refreshes inside 15m)")
	return fs
}

// processOutput is the credential_process JSON ("Sourcing credentials with
// an external process", AWS CLI User Guide): Version must be 1; Expiration
// is ISO 8601 / RFC 3339.
type processOutput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration"`
}

func credentialProcess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f credentialProcessFlags
	if err := parseFlags(newCredentialProcessFlags(&f), args, stdout); err != nil {
		return err
	}
	flow, endpoint, src, err := f.check()
	if err != nil {
		return err
	}
	var cache *diskCache
	login := login(f.provider, src)
	if !f.noCache {
		id, err := cacheIdentity(ctx, f.cacheKey, src, &login, f.provider)
		if err != nil {
			return err
		}
		if cache, err = openCache(f.cacheDir, cacheKey(endpoint, f.provider, flow, f.guest, id)); err != nil {
			return err
		}
		if out, ok := cache.load(time.Now(), f.minRemaining); ok {
			return writeJSON(stdout, out)
		}
	}
	out, err := f.vend(ctx, endpoint, login, flow)
	if err != nil {
		return err
	}
	if cache != nil {
		if err := cache.store(out); err != nil {
			// The credentials are good; only the next call will be slower.
			fmt.Fprintln(stderr, "s3vend: warning: "+oneLine(err.Error())+" (cache_write)")
		}
	}
	return writeJSON(stdout, out)
}

// check validates the flags and returns the flow, the token endpoint and
// where the login credential comes from; the errors are usage errors.
func (f *credentialProcessFlags) check() (client.Flow, string, *credentialSource, error) {
	flow, err := client.ParseFlow(f.flow)
	if err != nil {
		return 0, "", nil, &usageError{"--flow: " + err.Error()}
	}
	endpoint, err := f.resolveEndpoint()
	if err != nil {
		return 0, "", nil, err
	}
	src, err := f.credentialSource()
	if err != nil {
		return 0, "", nil, err
	}
	if f.minRemaining < 0 {
		return 0, "", nil, usageErrorf("--min-remaining must not be negative")
	}
	if f.cacheKey != "" && src.command == "" {
		return 0, "", nil, usageErrorf("--cache-key applies to --credential-command only (a static credential or --guest keys the cache itself)")
	}
	return flow, endpoint, src, nil
}

// vend asks the token vendor for credentials within --timeout and returns
// them in the credential_process format, with their real expiration.
func (f *credentialProcessFlags) vend(ctx context.Context, endpoint string, login client.LoginFunc, flow client.Flow) (processOutput, error) {
	creds, err := client.New(endpoint, login, func(o *client.Options) {
		o.Flow, o.Guest = flow, f.guest
		o.ExpiryWindow = -1 // print the real expiration
		o.Timeout = f.timeout
	})
	if err != nil {
		return processOutput{}, &usageError{err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	c, err := creds.Cache().Retrieve(ctx)
	if err != nil {
		return processOutput{}, err
	}
	return processOutput{
		Version: 1, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Expiration: c.Expires.UTC().Format(time.RFC3339),
	}, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// cacheIdentity returns what determines the login of src for the cache key
// (see credentialSource): the source itself, the command with the
// --cache-key its user named, or the digest of the credential the command
// prints now. In the last case the command has run, and *login is replaced
// by one that hands that credential to the first refresh instead of running
// the command again (a single-use login, such as a WeChat code, stays usable).
func cacheIdentity(ctx context.Context, cacheKey string, src *credentialSource, login *client.LoginFunc, provider string) (string, error) {
	switch {
	case src.fixed != "":
		return src.fixed, nil
	case cacheKey != "":
		return "command:" + src.command + "\nkey:" + cacheKey, nil
	}
	cred, err := src.get(ctx)
	if err != nil {
		return "", err
	}
	first := true
	next := *login
	*login = func(ctx context.Context) (string, string, error) {
		if first {
			first = false
			return provider, cred, nil
		}
		return next(ctx)
	}
	return "output:" + credentialDigest(cred), nil
}

// cacheKey names a cache entry by everything that selects the credentials:
// never the login credential itself (see credentialSource).
func cacheKey(endpoint, provider string, flow client.Flow, guest bool, source string) string {
	h := sha256.New()
	for _, part := range []string{"s3vend-credential-process-v2", endpoint, provider, flow.String(), strconv.FormatBool(guest), source} {
		fmt.Fprintf(h, "%d:%s\n", len(part), part)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type diskCache struct{ path string }

// Bounds of a cache entry: a credential_process document is a few hundred
// bytes, and no credentials the vendor hands out live longer than the
// basic flow's longest lifetime (contract.MaxCredentialLifetime; Cognito's
// GetCredentialsForIdentity credentials last an hour). An entry claiming
// more, or larger than maxCacheEntryBytes, was not written by s3vend.
const (
	maxCacheEntryBytes = 64 << 10
	clockSkew          = 5 * time.Minute
)

// openCache returns the cache in dir (default <os.UserCacheDir()>/s3vend).
// A directory this run creates is made 0700; an existing one must be a real
// directory (not a symbolic link) owned by the current user with no group or
// other permission bits, or it is refused: s3vend does not chmod a directory
// it did not create (issue 16).
func openCache(dir, key string) (*diskCache, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, usageErrorf("no cache directory (%v); set --cache-dir or --no-cache", err)
		}
		dir = filepath.Join(base, "s3vend")
	}
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o700); err == nil {
			st, err = os.Lstat(dir)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	if why := unsafeCacheDir(st); why != "" {
		return nil, fmt.Errorf("cache directory %s %s: make it a directory of your own with mode 0700, or choose another with --cache-dir, or run with --no-cache", dir, why)
	}
	return &diskCache{path: filepath.Join(dir, key+".json")}, nil
}

// unsafeCacheDir says why st is not a directory only the current user can
// use, or "".
func unsafeCacheDir(st fs.FileInfo) string {
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return "is a symbolic link"
	case !st.IsDir():
		return "is not a directory"
	case !ownedByCurrentUser(st):
		return "is not owned by the current user"
	case runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0:
		return fmt.Sprintf("is accessible to group or others (mode %v)", st.Mode().Perm())
	}
	return ""
}

// load returns the cached output if the entry is a private regular file of
// the current user, at most maxCacheEntryBytes, whose expiry is plausible
// (not later than the longest credential lifetime after the file was
// written) and still more than minRemaining away.
func (c *diskCache) load(now time.Time, minRemaining time.Duration) (processOutput, bool) {
	var out processOutput
	f, err := os.OpenFile(c.path, os.O_RDONLY|openNoFollow, 0)
	if err != nil {
		return out, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || !ownedByCurrentUser(st) || st.Size() > maxCacheEntryBytes ||
		(runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0) {
		return out, false
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCacheEntryBytes+1))
	if err != nil || len(data) > maxCacheEntryBytes || json.Unmarshal(data, &out) != nil ||
		out.Version != 1 || out.AccessKeyID == "" || out.SecretAccessKey == "" {
		return processOutput{}, false
	}
	exp, err := time.Parse(time.RFC3339, out.Expiration)
	if err != nil || exp.Sub(now) <= minRemaining || exp.After(st.ModTime().Add(contract.MaxCredentialLifetime+clockSkew)) {
		return processOutput{}, false
	}
	return out, true
}

// store writes out atomically (a 0600 temporary file renamed over the entry).
func (c *diskCache) store(out processOutput) error {
	data, err := json.Marshal(out)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".tmp-*") // mode 0600
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}
