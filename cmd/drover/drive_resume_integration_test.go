package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFirstDriveCopyResumes kills a real `drover apply` (CLI and plugin)
// during the first copy of a drive and checks that the next apply
// finishes that copy from its last checkpoint instead of starting over.
func TestFirstDriveCopyResumes(t *testing.T) {
	t.Parallel()
	const size = 256 << 20
	bin := buildDrover(t)
	dir := t.TempDir()
	srv := filepath.Join(dir, "root", "srv")
	if err := os.MkdirAll(srv, 0o755); err != nil {
		t.Fatal(err)
	}
	src := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(src)
	if err := os.WriteFile(filepath.Join(srv, "system.img"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	config := `
host "h" {
  root = "root"
}

resource "drive" "dpsr" {
  host = host.h
  path = "/srv/dpsr.img"
  size = "256MiB"
}

resource "drive_copy" "dpsr" {
  host       = host.h
  source     = "/srv/system.img"
  target     = drive.dpsr.path
  snapshot   = "none"
  checkpoint = "16MiB"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := droverCmd(bin, dir, "apply", "--auto-approve")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first manifest comes when the copy starts, and each checkpoint
	// replaces it (a new file renamed over it): kill once a checkpoint
	// past the start has been made, well before 256 MiB are copied.
	manifest := filepath.Join(srv, "dpsr.img.blocks")
	var first uint64
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st syscall.Stat_t
		if err := syscall.Stat(manifest, &st); err == nil {
			if first == 0 {
				first = st.Ino
			} else if st.Ino != first {
				break
			}
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			t.Fatalf("no checkpoint was made:\n%s", out.String())
		}
		time.Sleep(time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	if strings.Contains(out.String(), "Apply complete!") {
		t.Fatalf("the copy finished before it could be killed:\n%s", out.String())
	}

	plan, err := droverCmd(bin, dir, "plan").CombinedOutput()
	if err != nil || !strings.Contains(string(plan), "finishes the interrupted first copy") {
		t.Fatalf("plan after the kill (%v):\n%s", err, plan)
	}
	if apply, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("apply after the kill: %v\n%s", err, apply)
	}
	got, err := os.ReadFile(filepath.Join(srv, "dpsr.img"))
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("the backup differs from the source after the resumed copy (%v)", err)
	}
	show, err := droverCmd(bin, dir, "state", "show", "drive_copy.dpsr").CombinedOutput()
	if err != nil {
		t.Fatalf("state show: %v\n%s", err, show)
	}
	copied := int64(-1)
	for _, line := range strings.Split(string(show), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "bytes_copied" {
			copied, _ = strconv.ParseInt(f[2], 10, 64)
		}
	}
	if copied < 0 || copied >= size {
		t.Errorf("the resumed copy wrote %d of %d bytes; it should have gone on from its last checkpoint:\n%s", copied, size, show)
	}
}
