//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel runs c in its own process group and kills the whole
// group on timeout, so a shell's children (which hold our stderr) die too.
func killGroupOnCancel(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
}
