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
# This machine's Node 24 package and cfn-guard binary (NODE24, GUARD,
# NODE_PACKAGE), chosen by internal/platform (tested for every supported
# platform: Linux and macOS, x86-64 and arm64) and cached per machine kind.
# GOOS/GOARCH are cleared so that a cross-compiling shell still describes
# the host.
PLATFORM_MK := .build/platform-$(shell uname -s)-$(shell uname -m).mk
include $(PLATFORM_MK)
$(PLATFORM_MK): internal/platform/platform.go internal/tools/platform/main.go
	@mkdir -p $(@D)
	@env -u GOOS -u GOARCH $(GO) run ./internal/tools/platform -make > $@.tmp && mv $@.tmp $@
CDK     := $(NODE24) $(CURDIR)/node_modules/aws-cdk/bin/cdk
# The Go packages of this module (node_modules holds stray .go templates).
PKGS    := . ./config/... ./contract/... ./infra/... ./stacks/... ./lambda/... ./test/... ./client/... ./cmd/... ./internal/... ./examples/...
GODIRS  := app.go config contract infra stacks lambda test client cmd internal examples
# Debian packages of the real clients the end-to-end tests drive (test/e2e),
# installed where apt-get exists; elsewhere (macOS, other Linux) the host's
# own are used when present (internal/platform finds them).
E2E_DEBS := chromium awscli python3-boto3 curl
# Graphviz renders the architecture picture (make diagram; make test checks it).
DIAGRAM_DEBS := graphviz
# require: a missing real client fails the run (CI=true, or S3VEND_E2E=require
# set by hand); auto: its tests skip, and e2e-deps says which.
E2E_MODE := $(if $(filter true TRUE True 1 yes,$(CI)),require,$(or $(S3VEND_E2E),auto))

# The jsii kernel runs on the pinned Node 24, not the machine's Node 20.
export JSII_NODE := $(NODE24)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_NOTICES := false
export CDK_DISABLE_CLI_TELEMETRY := true

# Fuzz each target briefly in make test: a count of executions (2000x, about
# 0.3-1 s each here), not a duration. A duration -fuzztime races Go's fuzz
# coordinator at its deadline and fails a healthy target with a bare
# "context deadline exceeded" under CPU load (golang/go#75804, fixed in Go
# 1.27, not in 1.26.x; seen here 3 times on the 2-core machine). A real
# finding still fails with "Failing input written to testdata/fuzz/...".
# Longer: make lambda-fuzz LAMBDA_FUZZTIME=200000x (or 30s on Go >= 1.27).
LAMBDA_FUZZTIME ?= 2000x
include lambda/Makefile.inc

.PHONY: help setup e2e-deps synth test check unit js cdk-test e2e local lint fmt-check vet vet-cross staticcheck bench update-snapshots clean diff deploy destroy
.PHONY: bootstrap diff-live cdk actionlint diagram diagram-deps smoke js-lint

# STACK=S3Vend-dev (comma-separated for several) limits synth, bootstrap,
# diff-live, deploy and destroy to those stacks: the app synthesizes only
# their environments (context s3vend:stacks, read in config/select.go).
# deploy and destroy require it.
STACK   ?=
comma   := ,
SELECT  := $(if $(STACK),-c s3vend:stacks=$(STACK))
STACKS  := $(if $(STACK),$(subst $(comma), ,$(STACK)),--all)
# Extra CDK CLI flags, e.g. CDK_ARGS="--require-approval never" in CI.
CDK_ARGS ?=
# make deploy writes the stacks' outputs (cdk --outputs-file) here; the Go
# client, the s3vend CLI and the web example read this file.
OUTPUTS_DIR := .build/outputs
OUTPUTS     ?= $(OUTPUTS_DIR)/$(if $(STACK),$(subst $(comma),+,$(STACK)),all).json
# One line naming missing credentials/region (and the stacks' account/region)
# before the live commands, instead of CDK's "Unable to resolve AWS account".
PREFLIGHT = $(GO) build -o .build/bin/preflight ./internal/tools/preflight && .build/bin/preflight -stacks '$(STACK)' -action $@

help:
	@echo "make synth  - set up and synthesize every environment into cdk.out (offline)"
	@echo "make test   - set up and run every check (lint, unit, CDK, fuzz): what CI runs"
	@echo "make check  - the edit loop: cached go test -short, no set-up, no end-to-end or real-CLI tiers"
	@echo "make bench  - benchmarks: synth time, jsii start-up, token vendor, clients"
	@echo "make local  - run the token vendor against strict local stand-ins of Cognito, STS and S3 (ENV=dev)"
	@echo "make e2e    - only the end-to-end client tests (Go, AWS CLI, boto3, Chromium, mini-program)"
	@echo "make js     - type-check and unit-test the JS packages (js/*)"
	@echo "make update-snapshots - rewrite golden templates (read the diff first)"
	@echo "make diff   - offline PR diff: working tree vs merge base with main [STACK=S3Vend-dev] [BASE=ref] [FAIL=1]"
	@echo "Deploying (AWS credentials; STACK=S3Vend-<env> for one stack, else all; see docs/deploying.md):"
	@echo "make bootstrap [STACK=…] - cdk bootstrap the account/region of the stacks (once per account and region)"
	@echo "make diff-live [STACK=…] - cdk diff against the deployed stacks"
	@echo "make deploy STACK=…      - cdk deploy; outputs to $(OUTPUTS_DIR)/<stack>.json (CDK_ARGS=\"--require-approval never\" in CI)"
	@echo "make destroy STACK=…     - cdk destroy (a protected environment refuses: termination protection, see docs/security.md)"
	@echo "make cdk CDK_ARGS=\"…\"    - the pinned CDK CLI with the Makefile's settings (the npx cdk route)"
	@echo "make smoke STACK=S3Vend-<env> [OUTPUTS=file] - check a deployed environment end to end (pass/fail table)"
	@echo "make diagram - regenerate docs/architecture.{dot,svg,png} from the golden templates"

setup: node_modules/.installed go.sum
	@$(GO) mod download

node_modules/.installed: package.json package-lock.json $(wildcard js/*/package.json)
	npm ci --no-audit --no-fund --loglevel=error
	@# node_modules ships Go templates; a go.mod here keeps ./... out of it.
	@printf 'module ignore/node_modules\n' > node_modules/go.mod
	@touch $@

# Debian packages, installed when missing (CI runs as root): the real
# clients of the end-to-end tests, and Graphviz for the picture. A machine
# without apt-get and dpkg (macOS, Fedora, ...) installs nothing here.
define apt-install
	@if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then \
	missing=""; \
	for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi; \
	else echo "no apt-get here: using the host's own chromium, aws, python3 with boto3 and dot"; fi
endef

# Installs what it can, then reports every real client: where it was found,
# or which tests skip without it (and fails instead when E2E_MODE=require).
e2e-deps:
	$(call apt-install,$(E2E_DEBS) $(DIAGRAM_DEBS))
	@S3VEND_E2E=$(E2E_MODE) env -u GOOS -u GOARCH $(GO) run ./internal/tools/platform -clients

diagram-deps:
	$(call apt-install,$(DIAGRAM_DEBS))

# The shipped cdk.json holds sample values (REPLACE-ME...) that a protected
# environment refuses; this offline synth of the sample turns the refusal
# into a warning. deploy and diff never pass it (docs/configuration.md#placeholders).
PLACEHOLDERS_WARN := -c s3vend:placeholders=warn

synth: setup
	$(CDK) synth --quiet $(SELECT) $(PLACEHOLDERS_WARN)

test: setup e2e-deps lint unit js lambda-fuzz
	@echo "make test: all checks passed"

# The edit loop: go test -short over every package, cached (an unchanged
# package is not rerun), with no set-up (no npm ci, no apt-get: run make
# setup once), no lint and no fuzzing. -short skips the end-to-end tier
# (test/e2e, the stand-in stack with the real vendor binary) and the real-CLI
# tiers (cfn-lint, cfn-guard, git + CDK CLI in internal/prdiff, the app run
# as a subprocess, Graphviz); it keeps every unit test, the CDK synthesis with
# its assertions, snapshots, cdk-nag and the IAM access matrix. make test
# stays the complete check.
check:
	@[ -e node_modules/.installed ] || { echo "make check: run make setup once (node_modules is missing)" >&2; exit 2; }
	CFN_GUARD=$(GUARD) NODE24=$(NODE24) $(GO) test -short $(PKGS)

lint: fmt-check vet vet-cross staticcheck actionlint js-lint

# JS packages (npm workspaces): tsc checks the JSDoc types of js/client
# (and writes the .d.ts files it ships into js/client/types) and of the
# web example that imports them.
TSC := $(CURDIR)/node_modules/.bin/tsc
js-lint: setup
	$(TSC) -p js/client/tsconfig.json
	$(TSC) -p examples/web/tsconfig.json

fmt-check:
	@out=$$(gofmt -l $(GODIRS)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# The code that differs by OS (build-constrained files: internal/platform's
# process handling, the CLI's credential-process locking) type-checked for
# the hosts the README supports and CI does not run (macOS on Apple
# silicon and Intel), and the s3vend CLI's !unix side for Windows, where an
# app developer may run credential-process (go vet builds each target's
# dependencies once, ~30-50 s cold; cached after).
CROSS_PKGS := ./internal/platform/... ./internal/dynamotest/ ./cmd/s3vend/ ./cmd/s3vend-local/
vet-cross:
	GOOS=darwin GOARCH=arm64 $(GO) vet $(CROSS_PKGS)
	GOOS=darwin GOARCH=amd64 $(GO) vet ./internal/platform/... ./cmd/s3vend/
	GOOS=windows GOARCH=amd64 $(GO) vet ./cmd/s3vend/

# staticcheck is pinned as a go.mod tool (go get -tool ...@v0.8.2).
staticcheck:
	$(GO) tool staticcheck $(PKGS)

# The GitHub Actions workflows, with actionlint pinned as a go.mod tool
# (go get -tool ...@v1.7.12); it also runs shellcheck over run: scripts when
# shellcheck is installed. SHA pinning and permissions: internal/workflows.
actionlint:
	$(GO) tool actionlint

# Every package's tests in one go test run, so the Lambda's tests and the CDK
# tests (one synthesis, one jsii kernel for the whole test/ package) overlap.
# test/e2e drives the host's real clients: with E2E_MODE=require (CI) a
# missing one is a failure, otherwise its test skips (e2e-deps lists them).
unit:
	CFN_GUARD=$(GUARD) NODE24=$(NODE24) S3VEND_E2E=$(E2E_MODE) $(GO) test -count=1 $(PKGS)

# The JS packages (js/*): type-checked (tsc, checkJs), their unit tests
# (bundle size budget, ES2015, ...) on Node 24; their end-to-end tests run
# in unit (test/e2e). dist/ of the mini-program SDK is built by its tests.
# @s3vend/client's unit tests run on the machine's Node (CI's is 20, the
# package's minimum); its types and the web app's are checked in js-lint.
js: setup
	$(TSC) -p js/miniprogram
	$(NODE24) --test js/miniprogram/test/unit.test.mjs
	node --test js/client/test/*.test.js

e2e: setup e2e-deps
	NODE24=$(NODE24) S3VEND_E2E=$(E2E_MODE) $(GO) test -count=1 -v ./test/e2e/

# The token vendor against local stand-ins, configured from the synthesized
# template of ENV; prints a copy-paste recipe (see docs/local.md).
ENV ?= dev
local: synth
	NODE24=$(NODE24) $(GO) run ./cmd/s3vend-local -env $(ENV) -template cdk.out/S3Vend-$(ENV).template.json -dir .build/local

cdk-test:
	CFN_GUARD=$(GUARD) NODE24=$(NODE24) $(GO) test -count=1 ./test/...

update-snapshots:
	CFN_GUARD=$(GUARD) NODE24=$(NODE24) $(GO) test -count=1 ./test/ -run TestSnapshots -update

bench: setup lambda-bench
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./client/... ./cmd/s3vend/...
	@# Abuse control against the DynamoDB engine (moto's server): 20,000
	@# revocation checks; 30 metering batches of 100 events.
	$(GO) test -run='^$$' -bench=. -benchtime=20000x -count=1 ./internal/revocation/
	$(GO) test -run='^$$' -bench=. -benchtime=30x -count=1 ./internal/usage/
	CFN_GUARD=$(GUARD) NODE24=$(NODE24) $(GO) test -run='^$$' -bench=. -benchtime=3x -count=1 ./test/

# The architecture picture, from the golden snapshots (equal to a fresh
# synthesis: TestSnapshots), so make test checks it without synthesizing;
# after make update-snapshots, run make diagram. internal/diagram's test
# fails when docs/architecture.dot or .svg is stale.
diagram: diagram-deps
	$(GO) run ./internal/tools/diagram -templates test/testdata/snapshots -out docs/architecture.dot
	dot -Tsvg docs/architecture.dot -o docs/architecture.svg
	dot -Tpng -Gdpi=80 docs/architecture.dot -o docs/architecture.png

# Post-deploy smoke check of a deployed environment (s3vend smoke): the
# stack's outputs from OUTPUTS (a cdk deploy --outputs-file file) or from
# CloudFormation DescribeStacks; hs256 test logins signed with the key of
# the VerifierSecretArn secret, or SMOKE_FLAGS='--provider wechat
# --credential-command ...'. Needs AWS credentials only to read
# CloudFormation and Secrets Manager.
smoke:
	@if [ -z "$(STACK)" ]; then echo "usage: make smoke STACK=S3Vend-<env> [OUTPUTS=outputs.json] [SMOKE_FLAGS='--credential-command ...']" >&2; exit 2; fi
	@$(GO) build -o .build/s3vend ./cmd/s3vend
	@.build/s3vend smoke --stack $(STACK) $(if $(SMOKE_OUTPUTS),--outputs $(SMOKE_OUTPUTS)) $(SMOKE_FLAGS)

# OUTPUTS given on the command line or in the environment is used (and a
# missing file is an error); a Makefile default (make deploy's outputs file)
# only when that file exists, else CloudFormation is asked.
SMOKE_OUTPUTS = $(if $(filter file,$(origin OUTPUTS)),$(wildcard $(OUTPUTS)),$(OUTPUTS))

# Offline PR diff (no AWS credentials): the working tree against its merge
# base with main (BASE=<ref> to choose), every stack or STACK=S3Vend-dev;
# report in .build/diff/report.md. FAIL=1 exits 1 when a stack changed.
diff: setup
	@$(GO) build -o .build/s3vend-diff ./internal/tools/s3vend-diff
	@.build/s3vend-diff -node $(NODE24) -cdk $(CURDIR)/node_modules/aws-cdk/bin/cdk \
		-base '$(BASE)' -stack '$(STACK)' $(if $(filter 1 true yes,$(FAIL)),-fail)

# The live forms: never with s3vend:placeholders=warn, so a real deploy
# refuses sample placeholders.
bootstrap: setup
	@$(PREFLIGHT)
	$(CDK) bootstrap $(SELECT) $(CDK_ARGS)

diff-live: setup
	@$(PREFLIGHT)
	$(CDK) diff $(SELECT) $(STACKS) $(CDK_ARGS)

deploy: setup
	@$(PREFLIGHT) -require-stacks
	@mkdir -p $(dir $(OUTPUTS))
	$(CDK) deploy $(SELECT) $(STACKS) --outputs-file $(OUTPUTS) $(CDK_ARGS)
	@echo "outputs: $(OUTPUTS)"

destroy: setup
	@$(PREFLIGHT) -require-stacks
	$(CDK) destroy $(SELECT) $(STACKS) $(CDK_ARGS)

cdk: setup
	$(CDK) $(CDK_ARGS)

clean:
	rm -rf cdk.out .build
