package platform

import "syscall"

// DieWithParent makes a child process started with attr get SIGTERM when
// the process that started it dies (Linux's PR_SET_PDEATHSIG), so a test
// binary killed hard leaves no token vendor or moto server holding a port.
// attr may be nil; the result is attr, or a new one, with Pdeathsig set.
func DieWithParent(attr *syscall.SysProcAttr) *syscall.SysProcAttr {
	if attr == nil {
		attr = &syscall.SysProcAttr{}
	}
	attr.Pdeathsig = syscall.SIGTERM
	return attr
}
