package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
)

// TestMirrorSSHDCrashMidRelay crashes the target's sshd while a large
// file's first copy between two SSH hosts crosses raw from one agent to
// the other: apply fails naming the host, the replica has no partial
// file in its place, and the next apply, sshd back, mirrors the source
// and leaves no temp file.
func TestMirrorSSHDCrashMidRelay(t *testing.T) {
	t.Parallel()
	const size = 128 << 20
	fs2, bin, dir, src := mirrorBetweenSSHHosts(t)
	data := randomBytes(size, 7)
	if err := os.WriteFile(filepath.Join(src, "db.img"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	replica := filepath.Join(dir, "fs2", "replica", "srv", "db")

	// Under way: a temp file in the replica's folder holds some of it.
	out := crashMidApply(t, bin, dir, fs2, func() bool { return tempFileHolds(replica, 8<<20) })
	checkCleanError(t, out, "fs2", fs2.Addr)
	if _, err := os.Stat(filepath.Join(replica, "db.img")); err == nil {
		t.Error("a replica file is in place after the crashed first copy")
	}

	fs2.Restart(t)
	if out, err := droverCmd(bin, dir, "apply", "--auto-approve").CombinedOutput(); err != nil {
		t.Fatalf("apply after sshd came back: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(filepath.Join(replica, "db.img")); !bytes.Equal(got, data) {
		t.Error("after the next apply the replica is not the source")
	}
	entries, _ := os.ReadDir(replica)
	for _, e := range entries {
		if host.IsTempName(e.Name()) {
			t.Errorf("%s is left in the replica", e.Name())
		}
	}
}

// tempFileHolds says whether a temp file in dir holds at least n bytes.
func tempFileHolds(dir string, n int64) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && host.IsTempName(e.Name()) && fi.Size() >= n {
			return true
		}
	}
	return false
}
