package standin

import "syscall"

// dieWithParent makes a child process get SIGTERM when the process that
// started it dies (Linux's PR_SET_PDEATHSIG), so a test binary killed hard
// leaves no token vendor holding its port.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
