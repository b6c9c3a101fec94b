// Command s3vend-diff is `make diff`: the offline PR diff of every stack (or
// one), working tree against the merge base with main, with a reviewer's
// summary above the raw `cdk diff`. See package prdiff.
//
// Exit status: 0 (also when stacks changed), 1 when -fail is set and a stack
// changed, 2 on an error (one line naming the problem and the fix).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/s3vend/s3vend/internal/prdiff"
)

func main() {
	var o prdiff.Options
	fail := flag.Bool("fail", false, "exit 1 when a stack changed (FAIL=1)")
	flag.StringVar(&o.Base, "base", "", "git ref to diff against (its merge base with HEAD); default origin/main, else main")
	flag.StringVar(&o.Stack, "stack", "", "only this stack, e.g. S3Vend-dev; default every stack")
	flag.StringVar(&o.OutDir, "out", ".build/diff", "directory for both syntheses and report.md")
	flag.StringVar(&o.Node, "node", "node", "Node binary that runs the CDK CLI")
	flag.StringVar(&o.CDK, "cdk", "node_modules/aws-cdk/bin/cdk", "the CDK CLI")
	flag.BoolVar(&o.Parallel, "parallel", true, "synthesize base and working tree at the same time")
	flag.Parse()
	o.Log = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res, err := prdiff.Run(ctx, o)
	interrupted := ctx.Err() != nil
	stop()
	if err != nil {
		var ue *prdiff.Error
		if interrupted {
			err = errors.New("interrupted (the temporary base worktree was removed)")
		} else if !errors.As(err, &ue) {
			err = fmt.Errorf("unexpected: %w", err)
		}
		fmt.Fprintln(os.Stderr, "make diff:", err)
		os.Exit(2)
	}
	fmt.Print(res.Markdown)
	fmt.Fprintf(os.Stderr, "make diff: report written to %s\n", res.Path)
	if *fail && res.Report.Changed() {
		fmt.Fprintln(os.Stderr, "make diff: stacks changed (FAIL=1)")
		os.Exit(1)
	}
}
