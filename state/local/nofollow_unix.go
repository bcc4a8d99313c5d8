//go:build unix

package local

import "syscall"

// oNoFollow is O_NOFOLLOW where the system has it.
const oNoFollow = syscall.O_NOFOLLOW
