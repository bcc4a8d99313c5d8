package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
)

// TestNoOrphanedPlugins ends a real drover in the three ways that left its
// plugin processes running for minutes (its output pipe closed under it,
// SIGKILL, `timeout`), and checks by pid, in /proc, that every plugin
// process it had is gone within a deadline.
func TestNoOrphanedPlugins(t *testing.T) {
	t.Parallel()
	bin := buildDrover(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "sim/fs1/srv/repset")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "first"), []byte("first"), 0o644)
	// Enough changes that the output outgrows a pipe's buffer and apply
	// runs a while: each scenario ends drover while it works.
	config := replicationConfig + `
resource "value" "v" {
  count = 3000
  input = "v${count.index}"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve", "--target=replication_set.repset").CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}

	t.Run("plan output closed", func(t *testing.T) {
		cmd := droverCmd(bin, dir, "--json", "plan")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// What `| head -c 100` does, once planning has started the
		// providers: read a little, then close the pipe.
		readUntil(t, cmd, out, `"type":"planned_change"`)
		pids := pluginPids(t, bin, 1)
		out.Close()
		err = cmd.Wait()
		if st, ok := exitStatus(err); !ok || !st.Signaled() || st.Signal() != syscall.SIGPIPE {
			t.Fatalf("drover should have died of SIGPIPE: %v", err)
		}
		waitGone(t, pids)
	})

	t.Run("apply killed", func(t *testing.T) {
		cmd := droverCmd(bin, dir, "apply", "--auto-approve")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		readUntil(t, cmd, out, "Creation complete")
		pids := pluginPids(t, bin, 1)
		cmd.Process.Kill() // drover alone, not its process group
		go io.Copy(io.Discard, out)
		cmd.Wait()
		waitGone(t, pids)
	})

	// timeout's time is up when it gets SIGALRM: by default it sends
	// SIGTERM to drover and to its process group (the plugins too); in the
	// foreground with -s KILL, SIGKILL to drover alone.
	for _, timeoutArgs := range [][]string{{}, {"--foreground", "-s", "KILL"}} {
		t.Run(strings.Join(append([]string{"replicate under timeout"}, timeoutArgs...), " "), func(t *testing.T) {
			timeout := testenv.Command(t, "timeout", "coreutils")
			args := append(timeoutArgs, "300", bin, "--chdir="+dir, "replicate", "replication_set.repset")
			cmd := exec.Command(timeout, args...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("during-%d", len(timeoutArgs))
			os.WriteFile(filepath.Join(src, name), []byte(name), 0o644)
			waitForFile(t, filepath.Join(dir, "sim/fs2/replica/srv/repset", name), name)
			pids := pluginPids(t, bin, 1)
			cmd.Process.Signal(syscall.SIGALRM)
			cmd.Wait()
			waitGone(t, pids)
		})
	}
}

// readUntil reads out line by line until a line holds want.
func readUntil(t *testing.T, cmd *exec.Cmd, out io.Reader, want string) {
	t.Helper()
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), want) {
			return
		}
	}
	cmd.Process.Kill()
	t.Fatalf("drover's output ended without %q: %v", want, sc.Err())
}

func exitStatus(err error) (syscall.WaitStatus, bool) {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return 0, false
	}
	st, ok := exit.Sys().(syscall.WaitStatus)
	return st, ok
}

// pluginPids lists the live processes of the program bin that serve
// plugins (internal-plugin, internal-spare), failing with fewer than min.
func pluginPids(t *testing.T, bin string, min int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(cmdline), "\x00")
		if exe == bin && len(args) > 1 && strings.HasPrefix(args[1], "internal-") {
			pids = append(pids, pid)
		}
	}
	if len(pids) < min {
		t.Fatalf("%d plugin processes of %s running, want at least %d", len(pids), bin, min)
	}
	return pids
}

// alive reports whether pid is a process that has not exited (an exited
// one may stay a zombie until its new parent reaps it).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
	fields := strings.Fields(rest)
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

// waitGone fails unless every process of pids has exited within 20
// seconds (a plugin takes up to stopGrace to let its provider stop).
func waitGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var left []int
		for _, pid := range pids {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("plugin processes %v outlived drover", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
