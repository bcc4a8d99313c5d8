//go:build linux

package host

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
)

// nobody is the user of the planting process: one who may write to the
// folder a write goes to, but not read the victim.
const nobody = 65534

// asNobody runs argv as the user nobody.
func asNobody(t *testing.T, argv ...string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("as nobody, %s: %v: %s", strings.Join(argv, " "), err, out)
	}
}

// TestWritesIgnorePlantedSymlinks plants, as another user, symlinks to a
// root-only file at the names a write through the host might use in a
// folder that user may write to, and at the destination itself: the write
// must neither follow them nor turn the destination into one.
func TestWritesIgnorePlantedSymlinks(t *testing.T) {
	testenv.Root(t)
	ctx := context.Background()
	writes := []struct {
		name  string
		write func(h Host, path string) error
	}{
		{"WriteFile", func(h Host, path string) error {
			return h.WriteFile(ctx, path, strings.NewReader("new"), 0o644)
		}},
		{"CreateTemp and Rename", func(h Host, path string) error {
			f, tmp, err := h.CreateTemp(ctx, path)
			if err != nil {
				return err
			}
			_, err = f.Write([]byte("new"))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			return h.Rename(ctx, tmp, path)
		}},
	}
	folders := []struct {
		name  string
		setup func(dir string) error
	}{
		{"folder of the other user", func(dir string) error { return os.Chown(dir, nobody, nobody) }},
		{"sticky world-writable folder", func(dir string) error { return os.Chmod(dir, 0o777|os.ModeSticky) }},
	}
	for _, w := range writes {
		for _, fo := range folders {
			for _, rooted := range []bool{false, true} {
				name := w.name + "/" + fo.name + "/unrooted"
				if rooted {
					name = w.name + "/" + fo.name + "/rooted"
				}
				t.Run(name, func(t *testing.T) {
					top := t.TempDir()
					// The test's folders are private: nobody must reach the
					// shared one.
					for _, d := range []string{filepath.Dir(top), top} {
						if err := os.Chmod(d, 0o755); err != nil {
							t.Fatal(err)
						}
					}
					secret := filepath.Join(top, "secret")
					if err := os.Mkdir(secret, 0o700); err != nil {
						t.Fatal(err)
					}
					victim := filepath.Join(secret, "victim")
					if err := os.WriteFile(victim, []byte("root only"), 0o600); err != nil {
						t.Fatal(err)
					}
					shared := filepath.Join(top, "shared")
					if err := os.Mkdir(shared, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := fo.setup(shared); err != nil {
						t.Fatal(err)
					}
					dest := filepath.Join(shared, "README.txt")
					for _, n := range []string{".README.txt.drover-tmp", ".README.txt.tmp", "README.txt.tmp", "README.txt"} {
						asNobody(t, "ln", "-s", victim, filepath.Join(shared, n))
					}

					h, path := NewLocal("fs1", ""), dest
					if rooted {
						h, path = NewLocal("fs1", top), "/shared/README.txt"
					}
					defer h.Close()
					if err := w.write(h, path); err != nil {
						t.Fatal(err)
					}

					if b, err := os.ReadFile(victim); err != nil || string(b) != "root only" {
						t.Errorf("the victim holds %q (%v)", b, err)
					}
					if fi, err := os.Lstat(victim); err != nil || fi.Mode() != 0o600 {
						t.Errorf("the victim's mode is %v (%v), want 0600", fi.Mode(), err)
					}
					fi, err := os.Lstat(dest)
					if err != nil || !fi.Mode().IsRegular() {
						t.Fatalf("the destination is %v (%v), want a regular file", fi.Mode(), err)
					}
					if b, _ := os.ReadFile(dest); string(b) != "new" {
						t.Errorf("the destination holds %q", b)
					}
				})
			}
		}
	}
}

// TestOpenFileNoFollow: O_NOFOLLOW holds on a rooted host too, whose root
// would otherwise follow a symlink that stays inside it.
func TestOpenFileNoFollow(t *testing.T) {
	ctx := context.Background()
	for _, rooted := range []bool{false, true} {
		t.Run(map[bool]string{false: "unrooted", true: "rooted"}[rooted], func(t *testing.T) {
			top := t.TempDir()
			if err := os.WriteFile(filepath.Join(top, "target"), []byte("kept"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("target", filepath.Join(top, "link")); err != nil {
				t.Fatal(err)
			}
			h, path := NewLocal("fs1", ""), filepath.Join(top, "link")
			if rooted {
				h, path = NewLocal("fs1", top), "/link"
			}
			defer h.Close()
			f, err := h.OpenFile(ctx, path, os.O_RDWR|syscall.O_NOFOLLOW, 0)
			if err == nil {
				f.WriteAt([]byte("lost"), 0)
				f.Close()
			}
			if !errors.Is(err, syscall.ELOOP) {
				t.Errorf("err = %v, want ELOOP", err)
			}
			if b, _ := os.ReadFile(filepath.Join(top, "target")); string(b) != "kept" {
				t.Errorf("written through the symlink: %q", b)
			}
		})
	}
}
