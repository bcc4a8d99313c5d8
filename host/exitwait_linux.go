package host

import (
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// awaitExit returns once cmd's process has exited, waiting in the network
// poller on a pidfd rather than in waitid. A goroutine blocked in a system
// call holds its thread, and while one does Go's monitor wakes every 20 µs
// to hand the processor to another thread: with ten commands running at
// once that churn cost the plugin more CPU than starting them. cmd.Wait
// then reaps the process at once. Where a pidfd cannot be had, it returns
// and cmd.Wait waits as usual.
func awaitExit(cmd *exec.Cmd) {
	fd, err := unix.PidfdOpen(cmd.Process.Pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	// A pidfd polls readable once its process has exited; the callback
	// is asked first and again after each wake.
	rc.Read(func(fd uintptr) bool {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		return err != nil || n > 0
	})
}
