package main

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReplicateStoppedAtOnce sends a running `drover replicate` two
// SIGTERMs, in text and in JSON mode: both exit 130 with replicate's own
// message, not apply's.
func TestReplicateStoppedAtOnce(t *testing.T) {
	t.Parallel()
	bin := buildDrover(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "sim/fs1/srv/repset")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(replicationConfig), 0o644)
	os.WriteFile(filepath.Join(src, "first"), []byte("first"), 0o644)
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	replica := filepath.Join(dir, "sim/fs2/replica/srv/repset")
	for _, mode := range []string{"text", "json"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"replicate", "replication_set.repset"}
			if mode == "json" {
				args = append([]string{"--json"}, args...)
			}
			cmd := droverCmd(bin, dir, args...)
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			stderrPipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			interrupted := make(chan struct{})
			stderrDone := make(chan struct{})
			go func() {
				defer close(stderrDone)
				sc := bufio.NewScanner(stderrPipe)
				for sc.Scan() {
					stderr.WriteString(sc.Text() + "\n")
					if strings.HasPrefix(sc.Text(), "Interrupt received") {
						close(interrupted)
					}
				}
			}()
			// Replicating means the first whole pass is done: a change
			// made now reaches the replica.
			name := "during-" + mode
			os.WriteFile(filepath.Join(src, name), []byte(mode), 0o644)
			waitForFile(t, filepath.Join(replica, name), mode)
			// Large files in flight keep replicate busy after the first
			// signal: the second comes while it is still stopping.
			big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
			for _, name := range []string{"big1", "big2", "big3"} {
				os.WriteFile(filepath.Join(src, mode+name), big, 0o644)
			}
			waitForTemp(t, replica)
			syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-interrupted:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("no message after the first SIGTERM")
			}
			syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
			<-stderrDone
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
				t.Fatalf("replicate after two SIGTERMs: %v, want exit %d\nstdout:\n%s\nstderr:\n%s", err, exitInterrupted, stdout.String(), stderr.String())
			}
			msg := stderr.String()
			for _, want := range []string{"Interrupt received: finishing the files being sent", "Stopping at once. The files being sent keep their previous copy"} {
				if strings.Count(msg, want) != 1 {
					t.Errorf("stderr does not say %q once:\n%s", want, msg)
				}
			}
			if strings.Contains(msg, "state journal") {
				t.Errorf("replicate speaks of apply's state journal:\n%s", msg)
			}
		})
	}
}

// waitForFile polls until path holds want, failing after 30 seconds.
func waitForFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && string(b) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %q", path, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitForTemp polls until a file is being written under dir (a temp file
// stands there), failing after 30 seconds.
func waitForTemp(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		found := false
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), ".drover-tmp") {
				found = true
			}
			return nil
		})
		if found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing was being written under %s", dir)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
