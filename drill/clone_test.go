package drill

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
)

// TestClone clones sources on real file systems and checks the method
// chosen (planned and used), that the clone reads as the source, that a
// write to the clone leaves the source as it was, and that the teardown
// leaves nothing.
func TestClone(t *testing.T) {
	testenv.Root(t)
	tests := []struct {
		name string
		mkfs []string
		// src is made below the file system's mount point.
		src  func(t *testing.T, dir string) string
		opts CloneOptions
		// plan and used are the methods Plan promises and Clone uses.
		plan, used Method
		warning    string
		// elsewhere puts the clones on another file system than the source.
		elsewhere bool
	}{
		{"an image on xfs", []string{"mkfs.xfs", "-q", "-m", "reflink=1"}, image, CloneOptions{Disk: true}, Reflink, Reflink, "", false},
		{"a file on btrfs", []string{"mkfs.btrfs", "-q"}, hive, CloneOptions{}, Reflink, Reflink, "", false},
		{"an image on xfs without reflinks", []string{"mkfs.xfs", "-q", "-m", "reflink=0"}, image, CloneOptions{Disk: true}, Reflink, Qcow2Overlay, "no reflink", false},
		{"a file on xfs without reflinks", []string{"mkfs.xfs", "-q", "-m", "reflink=0"}, hive, CloneOptions{}, Reflink, Copy, "no reflink", false},
		{"an image on ext4", nil, image, CloneOptions{Disk: true}, Qcow2Overlay, Qcow2Overlay, "", false},
		{"a hive on ext4", nil, hive, CloneOptions{}, Copy, Copy, "", false},
		{"a tree on ext4", nil, tree, CloneOptions{}, Overlayfs, Overlayfs, "", false},
		{"a tree on xfs", []string{"mkfs.xfs", "-q"}, tree, CloneOptions{}, Reflink, Reflink, "", false},
		{"a tree on btrfs", []string{"mkfs.btrfs", "-q"}, tree, CloneOptions{}, Reflink, Reflink, "", false},
		{"a tree on xfs cloned to another file system", []string{"mkfs.xfs", "-q"}, tree, CloneOptions{}, Reflink, Overlayfs, "no reflink", true},
		{"a tree overlayfs cannot name", nil, func(t *testing.T, dir string) string { return tree(t, filepath.Join(dir, "a,b")) }, CloneOptions{}, Overlayfs, Copy, "overlayfs did not mount", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.used == Qcow2Overlay {
				testenv.Command(t, "qemu-img", "qemu-utils")
				testenv.Command(t, "qemu-io", "qemu-utils")
			}
			src := tc.src(t, fsOnLoop(t, tc.mkfs...))
			dir := filepath.Join(t.TempDir(), "drill")
			if tc.plan == Reflink && !tc.elsewhere {
				// A reflink needs the clone on the source's file system.
				dir = filepath.Join(filepath.Dir(src), "drill")
			}
			before, err := Fingerprint(ctx, machine, src)
			if err != nil {
				t.Fatal(err)
			}
			planned, err := Plan(ctx, machine, src, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if planned.Method != tc.plan {
				t.Errorf("Plan: %s, want %s", planned, tc.plan)
			}
			inv := openInventory(t, dir)
			c, err := inv.Clone(ctx, machine, src, filepath.Join(dir, "clones"), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("clone: %s at %s", c, c.Path)
			if c.Method != tc.used || !strings.Contains(c.Warning, tc.warning) || (tc.warning == "") != (c.Warning == "") {
				t.Errorf("Clone: %s, want %s with a warning holding %q", c, tc.used, tc.warning)
			}
			writeClone(t, c)
			after, err := Fingerprint(ctx, machine, src)
			if err != nil {
				t.Fatal(err)
			}
			if ch := Changes(before, after); len(ch) > 0 {
				t.Errorf("the source changed: %v", ch)
			}
			if err := inv.Teardown(ctx); err != nil {
				t.Fatal(err)
			}
			if leaks, err := inv.Prove(ctx); err != nil || len(leaks) > 0 {
				t.Fatalf("Prove: %v, %v", leaks, err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != JournalName {
				t.Errorf("the drill's folder holds %v after the teardown, want its journal only", entries)
			}
		})
	}
}

func image(t *testing.T, dir string) string {
	p := filepath.Join(dir, "vm", "system.img")
	randomFile(t, p, 8<<20, 1)
	return p
}

func hive(t *testing.T, dir string) string {
	p := filepath.Join(dir, "standby", "SYSTEM")
	randomFile(t, p, 256<<10, 2)
	return p
}

func tree(t *testing.T, dir string) string {
	p := filepath.Join(dir, "replica")
	randomFile(t, filepath.Join(p, "srv", "data", "a.bin"), 100<<10, 3)
	randomFile(t, filepath.Join(p, "etc", "dr.conf"), 100, 4)
	if err := os.Symlink("../etc/dr.conf", filepath.Join(p, "srv", "conf")); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeClone checks that c reads as its source, then writes to it the way
// a drill's step would.
func writeClone(t *testing.T, c Clone) {
	t.Helper()
	if fi, err := os.Stat(c.Source); err == nil && fi.IsDir() {
		conf := filepath.Join(c.Path, "etc", "dr.conf")
		want, _ := os.ReadFile(filepath.Join(c.Source, "etc", "dr.conf"))
		if got, err := os.ReadFile(conf); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("the clone's etc/dr.conf: %v", err)
		}
		if link, err := os.Readlink(filepath.Join(c.Path, "srv", "conf")); link != "../etc/dr.conf" {
			t.Errorf("the clone's srv/conf links to %q, %v", link, err)
		}
		if err := os.WriteFile(conf, []byte("failed over\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(c.Path, "srv", "data", "a.bin")); err != nil {
			t.Fatal(err)
		}
		return
	}
	switch c.Method {
	case Qcow2Overlay:
		if out := run(t, "qemu-img", "compare", "-f", "qcow2", "-F", "raw", c.Path, c.Source); !strings.Contains(out, "identical") {
			t.Errorf("qemu-img compare: %s", out)
		}
		run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0x55 0 64k", c.Path)
		if out := run(t, "qemu-io", "-f", "qcow2", "-c", "read -P 0x55 0 64k", c.Path); !strings.Contains(out, "read 65536/65536") {
			t.Errorf("reading back the write to the overlay: %s", out)
		}
	case Reflink, Copy:
		got, _ := os.ReadFile(c.Path)
		want, _ := os.ReadFile(c.Source)
		if !bytes.Equal(got, want) {
			t.Fatalf("the clone differs from the source")
		}
		if err := os.WriteFile(c.Path, []byte("imported"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCloneIntoTakenPath clones where something is already: the clone is
// refused, and the teardown leaves what was there.
func TestCloneIntoTakenPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  func(t *testing.T, dir string) string
	}{{"a hive", hive}, {"a tree", tree}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := tc.src(t, t.TempDir())
			clones := filepath.Join(dir, "clones")
			theirs := filepath.Join(clones, filepath.Base(src))
			os.MkdirAll(clones, 0o755)
			if err := os.WriteFile(theirs, []byte("theirs"), 0o644); err != nil {
				t.Fatal(err)
			}
			inv := openInventory(t, filepath.Join(dir, "drill"))
			if c, err := inv.Clone(ctx, machine, src, clones, CloneOptions{}); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("Clone: %v, %v; want fs.ErrExist", c, err)
			}
			if err := inv.Teardown(ctx); err != nil {
				t.Fatal(err)
			}
			if leaks, err := inv.Prove(ctx); err != nil || len(leaks) > 0 {
				t.Errorf("Prove: %v, %v", leaks, err)
			}
			if b, err := os.ReadFile(theirs); string(b) != "theirs" {
				t.Errorf("what was at the clone's path: %q, %v", b, err)
			}
		})
	}
}
