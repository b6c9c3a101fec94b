// Command metering is the s3vend metering function (Lambda, SQS event
// source): S3 event notifications in, exact per-identity usage in the
// usage table out (lambda/internal/metering, internal/usage). Outside
// Lambda (AWS_LAMBDA_RUNTIME_API unset) it polls S3VEND_METERING_QUEUE_URL
// itself, as the event source mapping would (local stand-ins, tests).
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/s3vend/s3vend/contract"
	"github.com/s3vend/s3vend/internal/usage"
	"github.com/s3vend/s3vend/lambda/internal/metering"
	"github.com/s3vend/s3vend/lambda/internal/metrics"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	table := os.Getenv(contract.EnvUsageTable)
	if table == "" {
		logger.Error("invalid configuration", "error", contract.EnvUsageTable+" is required")
		os.Exit(1)
	}
	rules, err := contract.ParseMeteredRulesEnv(os.Getenv)
	if err != nil {
		logger.Error("invalid configuration", "error", err.Error())
		os.Exit(1)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("cannot load AWS configuration")
		os.Exit(1)
	}
	h := &metering.Handler{
		Usage:   &usage.Store{DB: dynamodb.NewFromConfig(cfg), Table: table},
		Rules:   rules,
		Logger:  logger,
		Metrics: metrics.New(os.Stdout, metrics.Options{Stack: os.Getenv(contract.EnvMetricsStack)}),
	}
	if os.Getenv(contract.EnvLambdaRuntimeAPI) != "" {
		lambda.Start(h.Handle)
		return
	}
	queue := os.Getenv(metering.EnvQueueURL)
	if queue == "" {
		logger.Error("invalid configuration", "error", metering.EnvQueueURL+" is required outside Lambda")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("polling", "queue", queue)
	_ = h.Poll(ctx, sqs.NewFromConfig(cfg), queue)
}
