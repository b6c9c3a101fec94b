// Command metering is the s3vend metering function (Lambda, SQS event
// source): S3 event notifications in, exact per-identity usage in the
// usage table out (lambda/internal/metering, internal/usage).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/usage"
	"github.com/s3vend/s3vend/lambda/internal/metering"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	table := os.Getenv(contract.EnvUsageTable)
	if table == "" {
		logger.Error("invalid configuration", "error", contract.EnvUsageTable+" is required")
		os.Exit(1)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("cannot load AWS configuration")
		os.Exit(1)
	}
	h := &metering.Handler{
		Usage:   &usage.Store{DB: dynamodb.NewFromConfig(cfg), Table: table},
		Logger:  logger,
		Metrics: os.Stdout,
		Stack:   os.Getenv(contract.EnvMetricsStack),
	}
	lambda.Start(h.Handle)
}
