//go:build unix

package drill

import "syscall"

const noFollow = syscall.O_NOFOLLOW
