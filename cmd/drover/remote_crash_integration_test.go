package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/sshtest"
	xssh "golang.org/x/crypto/ssh"
)

// The tests here crash a real sshd (listener and connection processes,
// as a machine going down ends them) while a real `drover apply` writes a
// large target through it, then check what the failure left and that the
// next apply, the server back, finishes the job.

// sshHost declares host NAME reached through s, its root the folder root
// of this machine (which is the server's).
func sshHost(name string, s *sshtest.Server, root string) string {
	return fmt.Sprintf(`host %q {
  address       = %q
  identity_file = %q
  host_key      = %q
  root          = %q
}
`, name, s.Addr, s.Identity, strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey))), root)
}

// randomBytes returns n bytes that differ with seed.
func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// crashMidWrite starts apply, waits until the file at path holds want at
// off (the update is under way, written that far), crashes s and returns
// apply's output once it ended, failing unless it failed.
func crashMidWrite(t *testing.T, bin, dir string, s *sshtest.Server, path string, off int64, want []byte) string {
	t.Helper()
	return crashMidApply(t, bin, dir, s, func() bool { return writtenAt(path, off, want) })
}

// crashMidApply starts apply, waits until underWay says it got far
// enough, crashes s and returns apply's output once it ended, failing
// unless it failed.
func crashMidApply(t *testing.T, bin, dir string, s *sshtest.Server, underWay func() bool) string {
	t.Helper()
	cmd := droverCmd(bin, dir, "apply", "--auto-approve")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for !underWay() {
		select {
		case err := <-done:
			t.Fatalf("apply ended before it was under way (%v):\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Fatalf("apply got nowhere:\n%s", out.String())
		}
		time.Sleep(time.Millisecond)
	}
	s.Crash(t)
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("apply did not end after the server crashed:\n%s", out.String())
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("apply with its server crashed: %v, want a non-zero exit:\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "Apply complete!") {
		t.Fatalf("the update finished before the server crashed:\n%s", out.String())
	}
	return out.String()
}

// writtenAt says whether the file at path holds want at off.
func writtenAt(path string, off int64, want []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	got := make([]byte, len(want))
	_, err = f.ReadAt(got, off)
	return err == nil && bytes.Equal(got, want)
}

// checkCleanError checks that apply's output says what failed on which
// host and what to do, without a Go stack or a bare transport error.
func checkCleanError(t *testing.T, out, hostName, addr string) {
	t.Helper()
	t.Logf("apply's output:\n%s", out)
	for _, want := range []string{`host "` + hostName + `"`, addr, "apply again"} {
		if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
			t.Errorf("apply's error does not say %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"goroutine ", "panic:", "EOF\n"} {
		if strings.Contains(out, bad) {
			t.Errorf("apply's error shows %q:\n%s", bad, out)
		}
	}
}

// rolledBack is what t's files hold once its interrupted copy is rolled
// back: a copy of them is recovered, the files themselves are left.
func rolledBack(t *testing.T, target blocks.Target) []byte {
	t.Helper()
	scratch := t.TempDir()
	local := blocks.Target{Host: host.NewLocal("scratch", ""), Path: filepath.Join(scratch, "target"),
		Manifest: filepath.Join(scratch, "manifest"), Journal: filepath.Join(scratch, "journal")}
	for from, to := range map[string]string{target.Path: local.Path, target.Manifest: local.Manifest, target.Journal: local.Journal} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatalf("after the crash: %v", err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := local.Recover(context.Background())
	if err != nil {
		t.Fatalf("rolling back the interrupted copy: %v", err)
	}
	if rec == nil || rec.Finished {
		t.Fatalf("the interrupted copy had nothing to roll back (%v)", rec)
	}
	b, err := os.ReadFile(local.Path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDriveCopySSHDCrash crashes the sshd of a drive_copy's host while
// the copy updates the target: apply fails naming the host, the target
// and its journal roll back to the last complete copy, and the next
// apply, sshd back, makes the target the source.
func TestDriveCopySSHDCrash(t *testing.T) {
	t.Parallel()
	const size = 128 << 20
	s := sshtest.Start(t)
	bin := buildDrover(t)
	dir := t.TempDir()
	root := filepath.Join(dir, "fs2")
	images := filepath.Join(root, "images")
	if err := os.MkdirAll(images, 0o755); err != nil {
		t.Fatal(err)
	}
	config := sshHost("fs2", s, root) + `
resource "drive_copy" "backup" {
  host     = host.fs2
  source   = "/images/system.img"
  target   = "/images/backup.img"
  snapshot = "none"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	system := filepath.Join(images, "system.img")
	first := randomBytes(size, 1)
	if err := os.WriteFile(system, first, 0o644); err != nil {
		t.Fatal(err)
	}
	// The backup drive, blank, as one attached for it would be.
	if err := os.WriteFile(filepath.Join(images, "backup.img"), make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("first copy: %v\n%s", err, out)
	}

	// Three quarters of the source change: the update overwrites as much
	// of the backup, each piece journaled first.
	second := bytes.Clone(first)
	copy(second[size/8:], randomBytes(size*3/4, 2))
	if err := os.WriteFile(system, second, 0o644); err != nil {
		t.Fatal(err)
	}
	backup := blocks.Beside(nil, filepath.Join(images, "backup.img"))
	// Just into the changed part: the pieces are written in order.
	at := int64(size/8 + 1<<20)
	out := crashMidWrite(t, bin, dir, s, backup.Path, at, second[at:at+4096])
	checkCleanError(t, out, "fs2", s.Addr)
	if got, _ := os.ReadFile(backup.Path); bytes.Equal(got, first) {
		t.Fatal("the crashed update wrote nothing to the target; the test proves nothing")
	}
	if !bytes.Equal(rolledBack(t, backup), first) {
		t.Error("the target and its journal do not roll back to the last complete copy")
	}

	s.Restart(t)
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("apply after sshd came back: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(backup.Path); !bytes.Equal(got, second) {
		t.Error("after the next apply the target is not the source")
	}
	if out, err := droverCmd(bin, dir, "plan", "--detailed-exitcode").CombinedOutput(); err != nil {
		t.Errorf("plan after the finished copy: %v\n%s", err, out)
	}

	// A later update opens the undo journal the last one left.
	copy(second[size/2:], randomBytes(1<<20, 3))
	if err := os.WriteFile(system, second, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("a later update: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(backup.Path); !bytes.Equal(got, second) {
		t.Error("after a later update the target is not the source")
	}
}

// TestMirrorSSHDCrash crashes the target's sshd while a replication set
// between two SSH hosts updates a large replica file in place and replaces
// small ones: apply fails naming the host, every replica file is a whole
// version (the large one once its journal is rolled back), and the next
// apply, sshd back, mirrors the source.
func TestMirrorSSHDCrash(t *testing.T) {
	t.Parallel()
	const size = 128 << 20
	fs2, bin, dir, src := mirrorBetweenSSHHosts(t)
	// version writes round's source: the large file and small ones.
	small := func(i int, round byte) []byte { return []byte(fmt.Sprintf("file %d, round %d\n", i, round)) }
	version := func(round byte) []byte {
		b := randomBytes(size, round)
		if err := os.WriteFile(filepath.Join(src, "db.img"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("small%02d.txt", i)), small(i, round), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	// Two mirrors: the second gives the replica its block manifest, so
	// that the third updates it in place.
	replica := filepath.Join(dir, "fs2", "replica", "srv", "db")
	var old []byte
	for round := byte(1); round <= 2; round++ {
		old = version(round)
		if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
			t.Fatalf("mirror %d: %v\n%s", round, err, out)
		}
	}
	large := blocks.Target{Path: filepath.Join(replica, "db.img"),
		Manifest: filepath.Join(replica, ".db.img.drover-blocks"), Journal: filepath.Join(replica, ".db.img.drover-journal")}
	if _, err := os.Stat(large.Manifest); err != nil {
		t.Fatalf("no block manifest beside the replica: %v", err)
	}

	latest := version(3)
	at := int64(1 << 20)
	out := crashMidWrite(t, bin, dir, fs2, large.Path, at, latest[at:at+4096])
	checkCleanError(t, out, "fs2", fs2.Addr)
	// One error for the host, not one for each entry left.
	if !strings.Contains(out, "Error: Host unreachable") || strings.Contains(out, "could not be mirrored") {
		t.Errorf("apply does not stop at the unreachable host:\n%s", out)
	}
	if got, _ := os.ReadFile(large.Path); bytes.Equal(got, old) {
		t.Fatal("the crashed update wrote nothing to the replica; the test proves nothing")
	}
	if !bytes.Equal(rolledBack(t, large), old) {
		t.Error("the large replica file and its journal do not roll back to the version it held")
	}
	for i := range 20 {
		got, err := os.ReadFile(filepath.Join(replica, fmt.Sprintf("small%02d.txt", i)))
		if err != nil || !(bytes.Equal(got, small(i, 2)) || bytes.Equal(got, small(i, 3))) {
			t.Errorf("replica file small%02d.txt is neither version (%v): %q", i, err, got)
		}
	}

	// The crashed update's last write to the replica gave it its time. Over
	// SFTP times have whole seconds: a write in the second the source
	// changed (a fast machine's case) gives the replica the source's
	// very time and size. That case, made certain here, must not pass
	// for a finished mirror.
	fi, err := os.Stat(filepath.Join(src, "db.img"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(large.Path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}

	fs2.Restart(t)
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("apply after sshd came back: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(large.Path); !bytes.Equal(got, latest) {
		t.Error("after the next apply the large replica file is not the source's")
	}
	for i := range 20 {
		if got, _ := os.ReadFile(filepath.Join(replica, fmt.Sprintf("small%02d.txt", i))); !bytes.Equal(got, small(i, 3)) {
			t.Errorf("after the next apply small%02d.txt is %q", i, got)
		}
	}
	entries, _ := os.ReadDir(replica)
	for _, e := range entries {
		// (The undo journal stays between updates, as blocks keeps it.)
		if host.IsTempName(e.Name()) {
			t.Errorf("%s is left in the replica", e.Name())
		}
	}
	if out, err := droverCmd(bin, dir, "plan", "--detailed-exitcode").CombinedOutput(); err != nil {
		t.Errorf("plan after the finished mirror: %v\n%s", err, out)
	}

	// A later update in place opens the undo journal the last one left.
	latest = version(4)
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("a later update: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(large.Path); !bytes.Equal(got, latest) {
		t.Error("after a later update the large replica file is not the source's")
	}
}

// mirrorBetweenSSHHosts starts two sshd as fs1 and fs2 and writes a
// configuration mirroring fs1's /srv/db (src, made empty) to fs2's
// /replica; it returns fs2, the drover binary and the folder.
func mirrorBetweenSSHHosts(t *testing.T) (fs2 *sshtest.Server, bin, dir, src string) {
	fs1 := sshtest.Start(t)
	fs2 = sshtest.Start(t)
	bin = buildDrover(t)
	dir = t.TempDir()
	src = filepath.Join(dir, "fs1", "srv", "db")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	config := sshHost("fs1", fs1, filepath.Join(dir, "fs1")) + sshHost("fs2", fs2, filepath.Join(dir, "fs2")) + mirrorDB
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return fs2, bin, dir, src
}

// mirrorDB mirrors fs1's /srv/db to fs2's /replica.
const mirrorDB = `
resource "replication_set" "db" {
  source {
    host = host.fs1
    path = "/srv/db"
  }
  target {
    host = host.fs2
    path = "/replica"
  }
}
`
