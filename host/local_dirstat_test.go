package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadDirStat checks that ReadDirStat tells of every kind of entry
// what Lstat and Readlink tell, sorted by name, in folders large enough to
// take several reads of names.
func TestReadDirStat(t *testing.T) {
	ctx := t.Context()
	h, root := rootedHost(t)
	dir := filepath.Join(root, "d")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		name := fmt.Sprintf("f%04d-%s", 2999-i, strings.Repeat("x", i%40))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "setuid"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "setuid"), 0o755|fs.ModeSetuid|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../"+strings.Repeat("long/", 100), filepath.Join(dir, "long")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "setuid"), filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}

	for _, hp := range []struct {
		name string
		h    Host
		path string
	}{{"rooted", h, "/d"}, {"unrooted", NewLocal("here", ""), dir}, {"sub", sub(t, h, "/d"), "/"}} {
		t.Run(hp.name, func(t *testing.T) {
			got, err := hp.h.ReadDirStat(ctx, hp.path)
			if err != nil {
				t.Fatal(err)
			}
			want := lstatEach(t, hp.h, hp.path)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadDirStat differs from Lstat and Readlink of each entry (-want +got):\n%s", diff)
			}
			if len(got) != 3006 {
				t.Errorf("%d entries, want 3006", len(got))
			}
		})
	}

	if err := os.Symlink("/etc", filepath.Join(root, "etc-link")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ReadDirStat(ctx, "/etc-link"); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("listing through a link out of the root: %v", err)
	}
	if _, err := h.ReadDirStat(ctx, "/missing"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "/missing") {
		t.Errorf("listing a missing folder: %v; want a not-exist error naming it", err)
	}
	if _, err := h.ReadDirStat(ctx, "/d/setuid"); err == nil {
		t.Error("listing a file: no error")
	}
}

func sub(t *testing.T, h Host, path string) Host {
	s, err := h.Sub(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// lstatEach is what ReadDirStat should give, read entry by entry.
func lstatEach(t *testing.T, h Host, dir string) []EntryStat {
	des, err := h.ReadDir(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []EntryStat
	for _, d := range des {
		p := strings.TrimSuffix(dir, "/") + "/" + d.Name()
		fi, err := h.Lstat(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		e := EntryStat{Name: d.Name(), Mode: fi.Mode(), Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
		if st, ok := StatOf(fi); ok {
			e.SetStat(st)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if e.Link, err = h.Readlink(t.Context(), p); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, e)
	}
	return out
}
