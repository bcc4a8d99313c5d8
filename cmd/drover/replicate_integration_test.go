package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const replicationConfig = `
host "fs1" {
  root = "sim/fs1"
}

host "fs2" {
  root = "sim/fs2"
}

resource "replication_set" "repset" {
  source {
    host = host.fs1
    path = "/srv/repset"
  }
  target {
    host = host.fs2
    path = "/replica"
  }
  delete_orphans = true
}
`

// TestReplicateStopsOnSIGTERM runs the real binary's `drover replicate`,
// makes changes it must follow, then sends SIGTERM while large files are
// in flight: it exits 0, and the replica holds only whole files.
func TestReplicateStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	bin := buildDrover(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "sim/fs1/srv/repset")
	dst := filepath.Join(dir, "sim/fs2/replica/srv/repset")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(replicationConfig), 0o644)
	os.WriteFile(filepath.Join(src, "first"), []byte("first"), 0o644)
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}

	cmd := droverCmd(bin, dir, "replicate", "replication_set.repset")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFile := func(p, want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if b, err := os.ReadFile(p); err == nil && string(b) == want {
				return
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("%s never held %q; output:\n%s", p, want, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	os.MkdirAll(filepath.Join(src, "new/deep"), 0o755)
	os.WriteFile(filepath.Join(src, "new/deep/second"), []byte("second"), 0o644)
	waitFile(filepath.Join(dst, "new/deep/second"), "second")
	os.Rename(filepath.Join(src, "first"), filepath.Join(src, "renamed"))
	waitFile(filepath.Join(dst, "renamed"), "first")

	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
	for _, name := range []string{"big1", "big2", "big3"} {
		os.WriteFile(filepath.Join(src, name), big, 0o644)
	}
	time.Sleep(700 * time.Millisecond)
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("replicate after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("replicate did not stop after SIGTERM:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "replication_set.repset: stopped;") {
		t.Errorf("no summary at the stop:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dst, "first")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the renamed file's old name is still on the target: %v", err)
	}
	filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(d.Name(), ".drover-tmp") {
			t.Errorf("temp file left: %s", p)
		}
		if strings.HasPrefix(d.Name(), "big") {
			if b, _ := os.ReadFile(p); !bytes.Equal(b, big) {
				t.Errorf("%s is half-written: %d bytes", p, len(b))
			}
		}
		return nil
	})
}
