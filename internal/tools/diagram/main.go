// Command diagram writes the architecture picture's DOT source from the
// synthesized templates (make diagram renders it to SVG and PNG).
//
//	go run ./internal/tools/diagram -templates test/testdata/snapshots -out docs/architecture.dot
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/s3vend/s3vend/internal/diagram"
)

func main() {
	dir := flag.String("templates", "test/testdata/snapshots", "`directory` of *.template.json (the golden snapshots, or cdk.out)")
	out := flag.String("out", "docs/architecture.dot", "DOT `file` to write")
	flag.Parse()
	ts, err := diagram.LoadDir(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "diagram:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, diagram.Build(ts).DOT(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "diagram:", err)
		os.Exit(1)
	}
}
