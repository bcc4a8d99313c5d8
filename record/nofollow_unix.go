//go:build unix

package record

import "syscall"

const noFollow = syscall.O_NOFOLLOW
