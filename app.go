// Command s3vend is the CDK app: it reads and validates the s3vend context of
// cdk.json once, then synthesizes one stack per environment, each checked by
// cdk-nag's AwsSolutions rules.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/stacks"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "s3vend:", err)
		jsii.Close()
		os.Exit(1)
	}
	jsii.Close()
}

func run() error {
	app := awscdk.NewApp(nil)
	cfg, err := stacks.ParseConfig(app.Node().TryGetContext(jsii.String(stacks.ContextKey)))
	if err != nil {
		return err
	}
	stacks.Build(app, cfg, ".")
	app.Synth(nil)
	return nil
}
