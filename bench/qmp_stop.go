//go:build ignore

// qmp_stop stops a QEMU guest the way drover's vm provider does, for the
// by-hand side of bench/failover.sh: QMP system_powerdown, up to TIMEOUT
// for QEMU to exit, then QMP quit, and waits for it to be gone:
//
//	go run bench/qmp_stop.go SOCKET PIDFILE TIMEOUT
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: qmp_stop SOCKET PIDFILE TIMEOUT")
		os.Exit(2)
	}
	if err := stop(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "qmp_stop:", err)
		os.Exit(1)
	}
}

func stop(socket, pidfile, timeout string) error {
	wait, err := time.ParseDuration(timeout)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%s: %w", pidfile, err)
	}
	mon, err := qmp.NewSocketMonitor("unix", socket, 2*time.Second)
	if err != nil {
		return err
	}
	if err := mon.Connect(); err != nil {
		return err
	}
	defer mon.Disconnect()
	if _, err := mon.Run([]byte(`{"execute":"system_powerdown"}`)); err != nil {
		return err
	}
	if gone(pid, wait) {
		return nil
	}
	// QEMU closes the socket as it quits: no answer is no error.
	mon.Run([]byte(`{"execute":"quit"}`))
	if !gone(pid, 5*time.Second) {
		return fmt.Errorf("QEMU (pid %d) still runs after QMP quit", pid)
	}
	return nil
}

// gone polls every 20 ms, as the provider does, until pid has exited, for
// at most d; it says whether it has. A daemonized QEMU may stay a zombie
// until some parent reaps it: like the provider, an empty command line
// counts as gone.
func gone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err != nil || len(b) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
