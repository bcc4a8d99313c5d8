package agent

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeSize is the capacity asked of the pipes between the agent and sshd,
// a write of gRPC's whole buffer (ioBuffer): a pipe holds 64 KiB by
// default, so each such write waited for sshd to drain it sixteen times
// over, the two processes taking turns, and sshd woke for every part (a
// first sync: a third fewer context switches, and sshd's CPU 0.60 to 0.75
// s against 0.41 to 0.45 s).
const pipeSize = ioBuffer

// growPipes asks each of fs that is a pipe to hold pipeSize; best effort:
// a socket is left as it is, and a user past the system's limit on pipe
// memory keeps the default.
func growPipes(fs ...any) {
	for _, f := range fs {
		c, ok := f.(syscall.Conn)
		if !ok {
			continue
		}
		// Through Control: Fd would put a file the poller serves in
		// blocking mode.
		if rc, err := c.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize) })
		}
	}
}
