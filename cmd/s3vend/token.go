package main

import (
	"context"
	"flag"
	"io"

	"github.com/s3vend/s3vend/client"
)

func newTokenFlags(f *vendorFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	f.register(fs)
	return fs
}

// token prints the vendor's /v1/token response, or the /v1/guest response
// with --guest, to stdout.
func token(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var f vendorFlags
	if err := parseFlags(newTokenFlags(&f), args, stdout); err != nil {
		return err
	}
	endpoint, err := f.resolveEndpoint()
	if err != nil {
		return err
	}
	src, err := f.credentialSource()
	if err != nil {
		return err
	}
	v, err := client.NewVendor(endpoint)
	if err != nil {
		return &usageError{err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	if f.guest {
		g, err := v.Guest(ctx, "")
		if err != nil {
			return err
		}
		return writeJSON(stdout, g)
	}
	cred, err := src.get(ctx)
	if err != nil {
		return err
	}
	t, err := v.Token(ctx, f.provider, cred)
	if err != nil {
		return err
	}
	return writeJSON(stdout, t)
}
