package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
)

// TestRestoreAfterInterruptedCopy kills a real `drover apply` (CLI and
// plugin) during a changed-block copy, then the source drive goes, as when
// it dies mid-copy: the backup, rolled back to its last complete copy,
// must still restore, since "apply again" cannot run without the source.
func TestRestoreAfterInterruptedCopy(t *testing.T) {
	t.Parallel()
	sfdisk := testenv.Command(t, "sfdisk", "fdisk")
	const (
		size     = 256 << 20
		partSize = 120 << 20
		partAt   = 1 << 20 // where sfdisk puts the first partition
	)
	bin := buildDrover(t)
	dir := t.TempDir()
	srv := filepath.Join(dir, "root", "srv")
	if err := os.MkdirAll(srv, 0o755); err != nil {
		t.Fatal(err)
	}
	system := filepath.Join(srv, "system.img")
	for _, img := range []string{system, filepath.Join(srv, "dpsr.img")} {
		if err := os.WriteFile(img, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, size); err != nil {
			t.Fatal(err)
		}
	}
	table := exec.Command(sfdisk, "--quiet", system)
	table.Stdin = strings.NewReader("label: gpt\nsize=120MiB\nsize=120MiB\n")
	if out, err := table.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	config := `
host "h" {
  root = "root"
}

resource "drive_copy" "dpsr" {
  host     = host.h
  source   = "/srv/system.img"
  target   = "/srv/dpsr.img"
  snapshot = "none"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("first copy: %v\n%s", err, out)
	}

	// Partition 1 changes whole: the next copy overwrites 120 MiB of the
	// backup, each piece saved in its undo journal first.
	data := make([]byte, partSize)
	rand.NewChaCha8([32]byte{2}).Read(data)
	f, err := os.OpenFile(system, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, partAt); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := droverCmd(bin, dir, "apply", "--auto-approve")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(srv, "dpsr.img.journal")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(journal); err == nil && fi.Size() > 1<<20 {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			t.Fatalf("the copy journaled nothing:\n%s", out.String())
		}
		time.Sleep(time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	if strings.Contains(out.String(), "Apply complete!") {
		t.Fatalf("the copy finished before it could be killed:\n%s", out.String())
	}
	if err := os.Remove(system); err != nil {
		t.Fatal(err)
	}

	restore, err := droverCmd(bin, dir, "drive", "restore", "drive_copy.dpsr", "--partition", "1", "--to", "/srv/p1.img").CombinedOutput()
	if err != nil {
		t.Fatalf("restore from the backup of a source that is gone: %v\n%s", err, restore)
	}
	if !strings.Contains(string(restore), "rolled back to the last complete copy") {
		t.Errorf("the restore does not say it rolled the interrupted copy back:\n%s", restore)
	}
	got, err := os.ReadFile(filepath.Join(srv, "p1.img"))
	if err != nil || !bytes.Equal(got, make([]byte, partSize)) {
		t.Errorf("partition 1 restored is not the last complete copy's (%v)", err)
	}
	if _, err := os.Stat(journal); err == nil {
		t.Error("the journal of the interrupted copy is left")
	}
}
