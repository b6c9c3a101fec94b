// Package workflows holds the checks of the CI/CD wiring that actionlint
// (make lint) does not make: every third-party action in .github/workflows
// is pinned to a full commit SHA, every job names its token permissions,
// deploys run in an environment and never overlap; and the Makefile's live
// targets (bootstrap, diff-live, deploy, destroy) select the stack, run the
// credentials preflight first and never relax the placeholder check.
package workflows
