package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/s3vend/s3vend/internal/standin"
)

func readTemplate(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tpl map[string]any
	return tpl, json.Unmarshal(b, &tpl)
}

// httpClient trusts the stand-ins' CA, as AWS_CA_BUNDLE makes the SDKs do.
func httpClient(t *testing.T, s *standin.Stack) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate in " + s.CAFile)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// s3Client is a path-style S3 client of the stand-in with creds.
func s3Client(t *testing.T, s *standin.Stack, creds aws.CredentialsProvider) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		Region:       s.Region,
		Credentials:  creds,
		BaseEndpoint: aws.String(s.S3URL),
		UsePathStyle: true,
		HTTPClient:   httpClient(t, s),
		// What config.LoadDefaultConfig gives every client since the SDK's
		// 2025 checksum change; s3.New alone would send none.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
}

// apiCode is the AWS error code of err ("" when it has none).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
