//go:build unix

package host

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the command in its own process group and kills the
// whole group on cancellation, so that a script's children die with it and
// a Ctrl-C at the terminal reaches Drover, which decides what to stop.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
