package host

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTripwire checks that, once every folder was listed through the
// tripwire, any change made in them trips it at once, without waiting for
// events, and that reading the tree, or changing things outside it, does
// not.
func TestTripwire(t *testing.T) {
	ctx := t.Context()
	changes := []struct {
		name   string
		change func(set string) error
		trips  bool
	}{
		{"nothing", func(string) error { return nil }, false},
		{"reading everything", func(set string) error {
			return filepath.WalkDir(set, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					_, err = os.ReadFile(p)
				}
				return err
			})
		}, false},
		{"a file outside", func(set string) error { return os.WriteFile(filepath.Join(set, "../other/f"), []byte("x"), 0o644) }, false},
		{"through a symlink out of the folder", func(set string) error {
			return os.WriteFile(filepath.Join(set, "a/out/f"), []byte("y"), 0o644)
		}, false},
		{"a deep file written", func(set string) error {
			f, err := os.OpenFile(filepath.Join(set, "a/b/c/f"), os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("changed"), 1)
			return err
		}, true},
		{"a file created", func(set string) error { return os.WriteFile(filepath.Join(set, "a/new"), nil, 0o644) }, true},
		{"a file removed", func(set string) error { return os.Remove(filepath.Join(set, "a/b/g")) }, true},
		{"a file renamed", func(set string) error { return os.Rename(filepath.Join(set, "a/b/g"), filepath.Join(set, "a/g")) }, true},
		{"a folder renamed", func(set string) error { return os.Rename(filepath.Join(set, "a/b"), filepath.Join(set, "b")) }, true},
		{"a folder made", func(set string) error { return os.Mkdir(filepath.Join(set, "a/b/c/d"), 0o755) }, true},
		{"a mode changed", func(set string) error { return os.Chmod(filepath.Join(set, "a/b/c/f"), 0o600) }, true},
		{"a time changed", func(set string) error {
			return os.Chtimes(filepath.Join(set, "a/b/c"), time.Time{}, time.Unix(1, 0))
		}, true},
		{"a file truncated", func(set string) error { return os.Truncate(filepath.Join(set, "top"), 1) }, true},
		{"the folder's own mode", func(set string) error { return os.Chmod(set, 0o700) }, true},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			h, root := rootedHost(t)
			set := filepath.Join(root, "set")
			for _, d := range []string{"set/a/b/c", "other"} {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{"set/top", "set/a/b/c/f", "set/a/b/g", "other/f"} {
				if err := os.WriteFile(filepath.Join(root, f), []byte("data"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink("../../other", filepath.Join(set, "a/out")); err != nil {
				t.Fatal(err)
			}
			tw, err := h.Tripwire(ctx, "/set")
			if err != nil {
				t.Fatal(err)
			}
			defer tw.Close()
			listAll(t, tw, "/set")
			if tw.Tripped() {
				t.Fatal("tripped before any change")
			}
			if err := c.change(set); err != nil {
				t.Fatal(err)
			}
			if got := tw.Tripped(); got != c.trips {
				t.Errorf("Tripped() = %v, want %v", got, c.trips)
			}
		})
	}
}

func TestTripwireErrors(t *testing.T) {
	h, root := rootedHost(t)
	if _, err := h.Tripwire(t.Context(), "/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing folder: %v", err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Tripwire(t.Context(), "/etc"); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("a folder out of the root: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(root, "set"), 0o755); err != nil {
		t.Fatal(err)
	}
	tw, err := h.Tripwire(t.Context(), "/set")
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	if !tw.Tripped() {
		t.Error("a closed tripwire proves nothing, yet is not tripped")
	}
}

// listAll lists the folder dir and every folder below it through tw.
func listAll(t *testing.T, tw Tripwire, dir string) {
	t.Helper()
	entries, err := tw.ReadDirStat(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Mode.IsDir() {
			listAll(t, tw, dir+"/"+e.Name)
		}
	}
}
