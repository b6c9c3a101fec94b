// Package api contains shared type definisions used by several modules part of
// the jsii runtime for go. It helps avoid creating circular dependencies
// between the other modules.
package api
