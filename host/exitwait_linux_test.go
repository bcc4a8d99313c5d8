package host

import (
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestAwaitExit(t *testing.T) {
	for _, tc := range []struct {
		name string
		argv []string
		// exited waits until the process is a zombie before awaitExit.
		exited bool
	}{
		{"exits later", []string{"sleep", "0.2"}, false},
		{"exited before", []string{"true"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(tc.argv[0], tc.argv[1:]...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.exited {
				var info unix.Siginfo
				if err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			awaitExit(cmd)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("wait: %v", err)
			}
			if !tc.exited && time.Since(start) < 100*time.Millisecond {
				t.Errorf("awaitExit returned after %v, before the command exited", time.Since(start))
			}
		})
	}
}
