// Package workflows holds the checks of the GitHub Actions workflows in
// .github/workflows that actionlint (make lint) does not make: every
// third-party action is pinned to a full commit SHA, and every job names its
// token permissions.
package workflows
