//go:build linux

package host

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
)

// xfsOnLoop mounts a new xfs with reflinks, made on a loop device, for the
// test.
func xfsOnLoop(t *testing.T) string {
	t.Helper()
	testenv.Root(t)
	testenv.Command(t, "mkfs.xfs", "xfsprogs")
	testenv.Command(t, "losetup", "mount")
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 320<<20); err != nil {
		t.Fatal(err)
	}
	sh := func(argv ...string) string {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	dev := sh("losetup", "--find", "--show", img)
	t.Cleanup(func() { exec.Command("losetup", "--detach", dev).Run() })
	sh("mkfs.xfs", "-q", "-m", "reflink=1", dev)
	mnt := t.TempDir()
	sh("mount", dev, mnt)
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	return mnt
}

func TestReflink(t *testing.T) {
	ctx := context.Background()
	content := bytes.Repeat([]byte("block of a replica "), 100000)
	for _, tc := range []struct {
		name      string
		dir       func(t *testing.T) string
		supported bool
	}{
		{"xfs with reflink=1", xfsOnLoop, true},
		{"the test's own file system", func(t *testing.T) string { return t.TempDir() }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir(t)
			src, dst := filepath.Join(dir, "replica.img"), filepath.Join(dir, "clone.img")
			if err := os.WriteFile(src, content, 0o640); err != nil {
				t.Fatal(err)
			}
			err := NewLocal("fs1", "").Reflink(ctx, src, dst)
			if !tc.supported {
				if !errors.Is(err, errors.ErrUnsupported) {
					t.Fatalf("Reflink: %v, want errors.ErrUnsupported", err)
				}
				if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("a failed clone left %s: %v", dst, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(dst)
			fi, _ := os.Stat(dst)
			if !bytes.Equal(got, content) || fi.Mode().Perm() != 0o640 {
				t.Fatalf("clone: %d bytes, mode %v; want the source's %d bytes, mode 0640", len(got), fi.Mode().Perm(), len(content))
			}
			// Writes to the clone leave the source as it was.
			if err := os.WriteFile(dst, []byte("drill"), 0o640); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(src); !bytes.Equal(got, content) {
				t.Fatal("a write to the clone changed the source")
			}
			// An existing file, or a symlink planted at dst, is never written through.
			victim := filepath.Join(dir, "victim")
			os.WriteFile(victim, []byte("keep"), 0o600)
			planted := filepath.Join(dir, "planted")
			os.Symlink(victim, planted)
			for _, d := range []string{dst, planted} {
				if err := NewLocal("fs1", "").Reflink(ctx, src, d); !errors.Is(err, fs.ErrExist) {
					t.Errorf("Reflink to existing %s: %v, want fs.ErrExist", d, err)
				}
			}
			if got, _ := os.ReadFile(victim); string(got) != "keep" {
				t.Errorf("the symlink's target now holds %q", got)
			}
		})
	}
}
