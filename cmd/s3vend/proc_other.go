//go:build !unix

package main

import (
	"io/fs"
	"os/exec"
)

func killGroupOnCancel(*exec.Cmd) {}

// openNoFollow: no O_NOFOLLOW here; load checks the opened file's mode.
const openNoFollow = 0

// ownedByCurrentUser: file ownership is not checked on this platform (on
// Windows the user cache directory is under the user's profile).
func ownedByCurrentUser(fs.FileInfo) bool { return true }
