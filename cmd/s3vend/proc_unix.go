//go:build unix

package main

import (
	"io/fs"
	"os"
	"os/exec"
	"syscall"
)

// openNoFollow makes opening a symbolic link fail (cache entries).
const openNoFollow = syscall.O_NOFOLLOW

// ownedByCurrentUser reports whether st belongs to the effective user.
func ownedByCurrentUser(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Uid == uint32(os.Geteuid())
}

// killGroupOnCancel runs c in its own process group and kills the whole
// group on timeout, so a shell's children (which hold our stderr) die too.
func killGroupOnCancel(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
}
