//go:build !linux

package platform

import "syscall"

// DieWithParent returns attr as it is: macOS has no parent-death signal
// (Pdeathsig is Linux's), so there a child is stopped by its owner's Close
// only; a test binary killed hard may leave it running until it is killed
// by hand.
func DieWithParent(attr *syscall.SysProcAttr) *syscall.SysProcAttr { return attr }
