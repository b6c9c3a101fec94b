//go:build !linux

package standin

import "syscall"

// dieWithParent: macOS has no parent-death signal (Pdeathsig is Linux's), so
// there a child is stopped by Stack.Close only; a test binary killed hard may
// leave its token vendor running until it is killed by hand.
func dieWithParent() *syscall.SysProcAttr { return nil }
