//go:build unix

package host

import "syscall"

// oNoFollow is O_NOFOLLOW where the system has it.
const oNoFollow = syscall.O_NOFOLLOW
