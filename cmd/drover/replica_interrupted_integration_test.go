package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReplicaRolledBackWhenSourceGone kills a real `drover apply` (CLI and
// plugin at once, as a crash does) while it updates a large replica file
// in place, then the source folder goes, as when its server dies: the next
// plan refuses the vanished source, and the replica file, which held parts
// of two versions, is rolled back whole to the version it held, since no
// later mirror of it will come to do so.
func TestReplicaRolledBackWhenSourceGone(t *testing.T) {
	t.Parallel()
	const size = 256 << 20
	bin := buildDrover(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "sim/fs1/srv/db")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	version := func(seed byte) []byte {
		b := make([]byte, size)
		rand.NewChaCha8([32]byte{seed}).Read(b)
		if err := os.WriteFile(filepath.Join(src, "db.img"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return b
	}
	config := `
host "fs1" {
  root = "sim/fs1"
}

host "fs2" {
  root = "sim/fs2"
}
` + mirrorDB
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	// Two mirrors: the second gives the replica its block manifest, so
	// that the third updates it in place.
	replica := filepath.Join(dir, "sim/fs2/replica/srv/db/db.img")
	var old []byte
	for seed := range byte(2) {
		old = version(seed + 1)
		if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
			t.Fatalf("mirror %d: %v\n%s", seed+1, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(replica), ".db.img.drover-blocks")); err != nil {
		t.Fatalf("no block manifest beside the replica: %v", err)
	}

	version(3)
	cmd := droverCmd(bin, dir, "apply", "--auto-approve")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(filepath.Dir(replica), ".db.img.drover-journal")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(journal); err == nil && fi.Size() > 8<<20 {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			t.Fatalf("the update journaled nothing:\n%s", out.String())
		}
		time.Sleep(time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	if strings.Contains(out.String(), "Apply complete!") {
		t.Fatalf("the mirror finished before it could be killed:\n%s", out.String())
	}
	if got, _ := os.ReadFile(replica); bytes.Equal(got, old) {
		t.Fatal("the killed update wrote nothing; the test proves nothing")
	}
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}

	plan, err := droverCmd(bin, dir, "plan").CombinedOutput()
	if err == nil || !strings.Contains(string(plan), "the source folder vanished") {
		t.Fatalf("plan with the source gone (%v):\n%s", err, plan)
	}
	if !strings.Contains(string(plan), "/srv/db/db.img") || !strings.Contains(string(plan), "rolled back") {
		t.Errorf("the plan does not say which replica file it rolled back:\n%s", plan)
	}
	if got, _ := os.ReadFile(replica); !bytes.Equal(got, old) {
		t.Error("the replica file is not the version it held before the killed update")
	}
	if _, err := os.Stat(journal); err == nil {
		t.Error("the undo journal of the killed update is left")
	}
}
