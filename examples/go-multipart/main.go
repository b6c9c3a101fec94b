// Command go-multipart uploads a large file to private/<identityId>/<name>
// in the s3vend bucket with credentials from the token vendor (package
// client) and the SDK's multipart uploader (feature/s3/transfermanager).
//
//	go run ./examples/go-multipart --outputs outputs.json --stack S3Vend-dev \
//	  --provider backend --credential-command 's3vend dev-login --secrets-file secrets.json --issuer https://api.example.com --audience s3vend --subject alice' \
//	  --file big.bin
//
// S3 and Cognito Identity are reached through the standard SDK settings
// (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_COGNITO_IDENTITY, AWS_CA_BUNDLE),
// which config.LoadDefaultConfig reads.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"mime"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3vend/s3vend/client"
)

// minPartSize is S3's smallest part size for all but the last part
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
const minPartSize = 5 << 20

type flags struct {
	outputs, stack, endpoint string
	bucket, region           string
	provider, command        string
	flow, checksum           string
	file                     string
	pathStyle                bool
	partSize                 int64
	concurrency              int
}

func main() {
	var f flags
	flag.StringVar(&f.outputs, "outputs", "", "cdk deploy --outputs-file `file` (TokenEndpoint, BucketName, Region)")
	flag.StringVar(&f.stack, "stack", "", "`stack` in --outputs (may be empty when the file has one)")
	flag.StringVar(&f.endpoint, "endpoint", os.Getenv("S3VEND_ENDPOINT"), "token endpoint `URL`, instead of --outputs [$S3VEND_ENDPOINT]")
	flag.StringVar(&f.bucket, "bucket", "", "bucket `name` (default: BucketName of --outputs)")
	flag.StringVar(&f.region, "region", "", "`region` of the bucket (default: Region of --outputs, else the vendor's region)")
	flag.StringVar(&f.provider, "provider", os.Getenv("S3VEND_PROVIDER"), "login `provider` [$S3VEND_PROVIDER]")
	flag.StringVar(&f.command, "credential-command", os.Getenv("S3VEND_CREDENTIAL_COMMAND"), "`command` (sh -c) printing the login credential; else $S3VEND_CREDENTIAL [$S3VEND_CREDENTIAL_COMMAND]")
	flag.StringVar(&f.flow, "flow", "enhanced", "`flow`: enhanced or basic")
	flag.StringVar(&f.file, "file", "", "`path` of the file to upload (required)")
	flag.BoolVar(&f.pathStyle, "path-style", false, "path-style S3 addressing (for endpoints without virtual-host buckets)")
	flag.Int64Var(&f.partSize, "part-size", 8<<20, "multipart part size in `bytes` (at least 5 MiB)")
	flag.IntVar(&f.concurrency, "concurrency", 4, "parts uploaded in parallel")
	flag.StringVar(&f.checksum, "checksum", "when_supported", "request checksums: when_supported (SDK default: CRC32, aws-chunked trailer over HTTPS) or when_required")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	key, err := run(ctx, f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-multipart:", err)
		os.Exit(1)
	}
	fmt.Println(key)
}

func run(ctx context.Context, f flags) (string, error) {
	flow, checksum, err := f.resolve()
	if err != nil {
		return "", err
	}
	file, err := os.Open(f.file)
	if err != nil {
		return "", err
	}
	defer file.Close()

	creds, err := client.New(f.endpoint, loginFunc(f.provider, f.command), func(o *client.Options) { o.Flow = flow })
	if err != nil {
		return "", err
	}
	id, err := creds.Identity(ctx) // first vendor call; learns the identity id (and region)
	if err != nil {
		return "", err
	}
	region := cmp(f.region, id.Region)
	if region == "" {
		return "", errors.New("no region: set --region or --outputs")
	}
	tm, err := newUploader(ctx, f, region, creds, checksum)
	if err != nil {
		return "", err
	}
	key := client.PrivateKey(id.IdentityID, filepath.Base(f.file))
	if err := upload(ctx, tm, f.bucket, key, file); err != nil {
		return "", err
	}
	return key, nil
}

// resolve fills the endpoint, bucket and region the flags leave empty
// from --outputs, and checks that everything the upload needs is set.
func (f *flags) resolve() (client.Flow, aws.RequestChecksumCalculation, error) {
	if f.outputs != "" {
		o, err := client.LoadOutputs(f.outputs, f.stack)
		if err != nil {
			return 0, 0, err
		}
		f.endpoint = cmp(f.endpoint, o.TokenEndpoint)
		f.bucket, f.region = cmp(f.bucket, o.BucketName), cmp(f.region, o.Region)
	}
	switch {
	case f.endpoint == "":
		return 0, 0, errors.New("set --outputs or --endpoint")
	case f.bucket == "":
		return 0, 0, errors.New("set --bucket or --outputs")
	case f.provider == "":
		return 0, 0, errors.New("set --provider")
	case f.file == "":
		return 0, 0, errors.New("set --file")
	case f.partSize < minPartSize:
		return 0, 0, fmt.Errorf("--part-size %d: S3 parts are at least %d bytes", f.partSize, minPartSize)
	}
	flow, err := client.ParseFlow(f.flow)
	if err != nil {
		return 0, 0, err
	}
	checksum := aws.RequestChecksumCalculationWhenSupported
	if f.checksum == "when_required" {
		checksum = aws.RequestChecksumCalculationWhenRequired
	} else if f.checksum != "when_supported" {
		return 0, 0, fmt.Errorf("--checksum %q: want when_supported or when_required", f.checksum)
	}
	return flow, checksum, nil
}

// newUploader is the SDK's multipart uploader over an S3 client whose
// credentials are s3vend's one cache (creds.Cache()), set on the client as
// they are. LoadDefaultConfig applies AWS_ENDPOINT_URL_S3 and AWS_CA_BUNDLE.
func newUploader(ctx context.Context, f flags, region string, creds *client.Credentials, checksum aws.RequestChecksumCalculation) (*transfermanager.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	if err != nil {
		return nil, err
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.Credentials = creds.Cache()
		o.UsePathStyle = f.pathStyle
	})
	return transfermanager.New(s3c, func(o *transfermanager.Options) {
		o.PartSizeBytes = f.partSize
		o.MultipartUploadThreshold = f.partSize
		o.Concurrency = f.concurrency
		o.RequestChecksumCalculation = checksum
	}), nil
}

// upload sends file to key with the content type of its extension
// (application/octet-stream when unknown) and reports its size and time.
func upload(ctx context.Context, tm *transfermanager.Client, bucket, key string, file *os.File) error {
	contentType := mime.TypeByExtension(filepath.Ext(file.Name()))
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	start := time.Now()
	if _, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket:      aws.String(bucket),
		Key:         aws.String(key),
		Body:        file,
		ContentType: aws.String(contentType),
	}); err != nil {
		return fmt.Errorf("upload s3://%s/%s: %w", bucket, key, err)
	}
	if st, err := file.Stat(); err == nil {
		fmt.Fprintf(os.Stderr, "go-multipart: uploaded %d bytes in %v\n", st.Size(), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// loginFunc returns the login: the output of command, or $S3VEND_CREDENTIAL.
func loginFunc(provider, command string) client.LoginFunc {
	return func(ctx context.Context) (string, string, error) {
		if command == "" {
			if c := os.Getenv("S3VEND_CREDENTIAL"); c != "" {
				return provider, c, nil
			}
			return "", "", errors.New("set --credential-command or $S3VEND_CREDENTIAL")
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", "", fmt.Errorf("credential command: %w", err)
		}
		return provider, strings.TrimSpace(string(out)), nil
	}
}

// cmp returns a if it is set, else b.
func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
