// Command s3vend is the CDK app: it reads and validates the s3vend context of
// cdk.json once, then synthesizes one stack per environment (or only those
// selected with -c s3vend:stacks=…), each checked by
// cdk-nag's AwsSolutions rules.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/s3vend/s3vend/config"
	"github.com/s3vend/s3vend/stacks"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3vend:", err)
		os.Exit(1)
	}
}

func run() (err error) {
	// A construct refuses props it cannot build (NewX panics with an error
	// naming the prop, the value and the fix; config has checked what it
	// can on its own, a whole environment's size only the construct can):
	// print that message as a synth error, not a goroutine dump. Runtime
	// errors (a nil dereference) are bugs and keep their trace.
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if e, ok := r.(error); ok {
			if _, bug := e.(runtime.Error); !bug {
				err = e
				return
			}
		}
		panic(r)
	}()
	phases := newPhases(os.Getenv("S3VEND_TIMINGS") != "")
	defer phases.report()
	app := awscdk.NewApp(nil) // the first jsii call starts the Node kernel
	phases.mark("kernel-start")
	opts, err := config.ParseOptionsFromContext(app.Node().TryGetContext(jsii.String(config.PlaceholdersContextKey)))
	if err != nil {
		return err
	}
	cfg, err := config.ParseWith(app.Node().TryGetContext(jsii.String(config.ContextKey)), opts)
	if err != nil {
		return err
	}
	// -c s3vend:stacks=S3Vend-dev (make … STACK=S3Vend-dev): only that environment.
	if cfg, err = cfg.Select(app.Node().TryGetContext(jsii.String(config.SelectionContextKey))); err != nil {
		return err
	}
	stacks.Build(app, cfg, ".")
	phases.mark("construct")
	app.Synth(nil)
	phases.mark("synth")
	return nil
}

// phases times the app's phases for `make bench` (S3VEND_TIMINGS=1); it
// prints one "s3vend-timing <phase> <ms>" line per phase to stderr.
type phases struct {
	on    bool
	last  time.Time
	names []string
	durs  []time.Duration
}

func newPhases(on bool) *phases { return &phases{on: on, last: time.Now()} }

func (p *phases) mark(name string) {
	now := time.Now()
	p.names, p.durs = append(p.names, name), append(p.durs, now.Sub(p.last))
	p.last = now
}

func (p *phases) report() {
	if !p.on {
		return
	}
	for i, n := range p.names {
		fmt.Fprintf(os.Stderr, "s3vend-timing %s %.1f\n", n, float64(p.durs[i].Microseconds())/1000)
	}
}
