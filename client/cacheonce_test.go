package client_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3vend/s3vend/client"
)

// Issue 16, item 8: the form the README hands to the SDK caches exactly
// once. config.LoadDefaultConfig wraps any provider that is not an
// *aws.CredentialsCache in a second cache (config/resolve_credentials.go,
// wrapWithCredentialsCache), so Invalidate on the inner one never reached
// the cache the S3 client reads, as it does not for stscreds providers
// wrapped twice.
func TestInvalidateReachesTheCacheTheS3ClientReads(t *testing.T) {
	v, c := fakes(t)
	creds := newCreds(t, v, c, nil)
	// GIVEN an S3 client configured as the README says
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("eu-west-1"),
		config.WithCredentialsProvider(creds.Cache()),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg)
	// THEN the SDK uses s3vend's cache as is, not a second one around it
	if cfg.Credentials != aws.CredentialsProvider(creds.Cache()) || s3c.Options().Credentials != aws.CredentialsProvider(creds.Cache()) {
		t.Fatalf("the SDK wrapped s3vend's cache: %T", cfg.Credentials)
	}
	first, err := s3c.Options().Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// WHEN the app invalidates (e.g. after an ExpiredToken)
	creds.Invalidate()
	// THEN the next request the S3 client signs uses fresh credentials
	second, err := s3c.Options().Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if first.AccessKeyID == second.AccessKeyID || c.Calls() != 2 {
		t.Fatalf("Invalidate did not reach the S3 client's cache: %s then %s, %d Cognito calls", first.AccessKeyID, second.AccessKeyID, c.Calls())
	}
}

// *client.Credentials is not itself an aws.CredentialsProvider, so the
// double-caching form (WithCredentialsProvider(creds)) does not compile.
func TestCredentialsIsNotAProviderItself(t *testing.T) {
	var creds any = &client.Credentials{}
	if _, ok := creds.(aws.CredentialsProvider); ok {
		t.Fatal("*client.Credentials implements aws.CredentialsProvider: config.LoadDefaultConfig would cache it a second time")
	}
}
