package disk

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/zclconf/go-cty/cty"
)

// fsOnLoop makes a file system with mkfs on a loop device and mounts it.
func fsOnLoop(t *testing.T, sizeMiB int64, mkfs ...string) string {
	t.Helper()
	testenv.Command(t, mkfs[0], debianPackage(mkfs[0]))
	dev := loop(t, image(t, t.TempDir(), "fs.img", sizeMiB<<20))
	run(t, append(mkfs, dev)...)
	return mount(t, dev)
}

func snapshotUsed(v cty.Value) string { return v.GetAttr("snapshot_used").AsString() }

func TestSnapshotMethods(t *testing.T) {
	testenv.Root(t)
	t.Run("reflink on btrfs", func(t *testing.T) {
		mnt := fsOnLoop(t, 256, "mkfs.btrfs", "-q")
		src := filepath.Join(mnt, "vm", "system.img")
		os.MkdirAll(filepath.Dir(src), 0o755)
		randomFile(t, src, 8<<20)
		target := image(t, t.TempDir(), "dpsr.img", 8<<20)
		state, desc := mustApply(t, provider(t), cty.NilVal, copyValue(map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(target)}))
		if !strings.Contains(desc, "reflink (the image lies on btrfs)") || !strings.HasPrefix(snapshotUsed(state), "reflink") {
			t.Errorf("plan %q, used %q", desc, snapshotUsed(state))
		}
		if !bytes.Equal(read(t, target), read(t, src)) {
			t.Error("the copy differs from the source")
		}
		// An explicit btrfs snapshot of the subvolume holding the image.
		os.Truncate(target, 0)
		os.Truncate(target, 8<<20)
		os.Remove(target + ".blocks")
		state, _ = mustApply(t, provider(t), cty.NilVal, copyValue(map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(target), "snapshot": cty.StringVal("btrfs")}))
		if !strings.HasPrefix(snapshotUsed(state), "btrfs") || !bytes.Equal(read(t, target), read(t, src)) {
			t.Errorf("btrfs snapshot: used %q", snapshotUsed(state))
		}
		left, _ := filepath.Glob(filepath.Join(mnt, "*", ".drover-*"))
		top, _ := filepath.Glob(filepath.Join(mnt, ".drover-*"))
		if len(left)+len(top) > 0 {
			t.Errorf("clones or snapshots left behind: %v %v", left, top)
		}
	})
	t.Run("reflink on xfs", func(t *testing.T) {
		mnt := fsOnLoop(t, 320, "mkfs.xfs", "-q", "-m", "reflink=1")
		src := filepath.Join(mnt, "system.img")
		randomFile(t, src, 8<<20)
		target := image(t, t.TempDir(), "dpsr.img", 8<<20)
		state, _ := mustApply(t, provider(t), cty.NilVal, copyValue(map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(target)}))
		if !strings.HasPrefix(snapshotUsed(state), "reflink (the image lies on xfs)") || !bytes.Equal(read(t, target), read(t, src)) {
			t.Errorf("used %q", snapshotUsed(state))
		}
	})
	t.Run("fsfreeze of a mounted source", func(t *testing.T) {
		dir := t.TempDir()
		img := partitioned(t, dir, "system.img", 64, []string{","}, []string{"mkfs.ext4 -q"}, nil)
		dev := loop(t, img)
		mnt := mount(t, dev+"p1")
		t.Cleanup(func() { exec.Command("fsfreeze", "--unfreeze", mnt).Run() })
		os.WriteFile(filepath.Join(mnt, "live.txt"), []byte("written while mounted"), 0o644)
		target := image(t, dir, "dpsr.img", 64<<20)
		state, desc := mustApply(t, provider(t), cty.NilVal, copyValue(map[string]cty.Value{"source": cty.StringVal(dev), "target": cty.StringVal(target),
			"manifest": cty.StringVal(filepath.Join(dir, "dpsr.blocks"))}))
		if !strings.Contains(desc, "fsfreeze ("+mnt+" is mounted from it)") || !strings.Contains(snapshotUsed(state), "frozen for") {
			t.Errorf("plan %q, used %q", desc, snapshotUsed(state))
		}
		// Thawed: a write returns.
		done := make(chan error, 1)
		go func() { done <- os.WriteFile(filepath.Join(mnt, "after.txt"), []byte("x"), 0o644) }()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the source file system is still frozen after the copy")
		}
	})
	t.Run("passes for a held source", func(t *testing.T) {
		dir := t.TempDir()
		src := filepath.Join(dir, "system.img")
		randomFile(t, src, 4<<20)
		loop(t, src)
		target := image(t, dir, "dpsr.img", 4<<20)
		state, desc := mustApply(t, provider(t), cty.NilVal, copyValue(map[string]cty.Value{"source": cty.StringVal(src), "target": cty.StringVal(target)}))
		if !strings.Contains(desc, "passes (it is in use") || snapshotUsed(state) != "passes (it is in use (it is in use by /dev/"+strings.TrimPrefix(attached(t, src)[:strings.Index(attached(t, src), ":")], "/dev/")+") and no snapshot applies); 2 passes" {
			t.Errorf("plan %q, used %q", desc, snapshotUsed(state))
		}
	})
}
