// Command tokenvendor is the s3vend token-vending service. It runs under AWS
// Lambda (behind an API Gateway HTTP API, payload v2) when
// AWS_LAMBDA_RUNTIME_API is set, and otherwise as a local HTTP server
// (-listen or S3VEND_LISTEN, default 127.0.0.1:8080). See docs/local.md and docs/vendor.md.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/s3vend/s3vend/lambda/internal/app"
	"github.com/s3vend/s3vend/lambda/internal/awsx"
	"github.com/s3vend/s3vend/lambda/internal/config"
	"github.com/s3vend/s3vend/lambda/internal/httpapi"
)

func main() { os.Exit(run()) }

func run() int {
	listen := flag.String("listen", "", "local mode listen address (overrides "+config.EnvListen+")")
	flag.Parse()
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	slog.SetDefault(logger)

	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		// Config errors name variables and fields; they never carry secrets.
		logger.Error("invalid configuration", "error", err.Error())
		return 1
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	ctx := context.Background()
	awsCfg, err := awsx.LoadConfig(ctx, awsx.Options{Region: cfg.Region, MaxAttempts: cfg.MaxAttempts})
	if err != nil {
		logger.Error("cannot load AWS configuration")
		return 1
	}
	h, err := app.New(ctx, cfg, app.Deps{AWS: awsCfg, Logger: logger, Metrics: os.Stdout})
	if err != nil {
		logger.Error("start-up failed", "error", err.Error())
		return 1
	}

	if cfg.InLambda {
		lambda.Start(httpapi.NewLambdaHandler(h))
		return 0
	}
	return serve(logger, cfg.Listen, h)
}

// serve runs the local HTTP server until SIGINT/SIGTERM.
func serve(logger *slog.Logger, addr string, h http.Handler) int {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logger.Error("cannot listen", "addr", addr)
		return 1
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server failed")
		return 1
	}
	return 0
}
