package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
)

func TestLocalLinksAndMetadata(t *testing.T) {
	ctx := t.Context()
	h, root := rootedHost(t)
	if err := h.WriteFile(ctx, "/d/f", strings.NewReader("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	if err := h.Symlink(ctx, "/etc/passwd", "/d/abs"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(filepath.Join(root, "d/abs")); err != nil || got != "/etc/passwd" {
		t.Errorf("the link holds %q, %v; want the target as written", got, err)
	}
	if got, err := h.Readlink(ctx, "/d/abs"); err != nil || got != "/etc/passwd" {
		t.Errorf("Readlink = %q, %v", got, err)
	}
	if _, err := h.ReadFile(ctx, "/d/abs"); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("reading through a link out of the root: %v", err)
	}

	if err := h.Link(ctx, "/d/f", "/d/hard"); err != nil {
		t.Fatal(err)
	}
	fi, err := h.Lstat(ctx, "/d/hard")
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := StatOf(fi); !ok || st.Nlink != 2 {
		t.Errorf("StatOf = %+v, %v; want 2 links", st, ok)
	}

	mtime := time.Date(2001, 2, 3, 4, 5, 6, 789, time.UTC)
	if err := h.Chtimes(ctx, "/d/f", mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if fi, _ := h.Lstat(ctx, "/d/f"); !fi.ModTime().Equal(mtime) {
		t.Errorf("mtime %v, want %v", fi.ModTime(), mtime)
	}

	t.Run("lchown", func(t *testing.T) {
		testenv.Root(t)
		if err := h.Lchown(ctx, "/d/abs", 1234, 5678); err != nil {
			t.Fatal(err)
		}
		fi, _ := h.Lstat(ctx, "/d/abs")
		if st, _ := StatOf(fi); st.UID != 1234 || st.GID != 5678 {
			t.Errorf("owner %d:%d, want 1234:5678", st.UID, st.GID)
		}
		fi, _ = os.Stat("/etc/passwd")
		if st, _ := StatOf(fi); st.UID != 0 {
			t.Errorf("Lchown followed the link: /etc/passwd is owned by %d", st.UID)
		}
	})
}

func TestCreateTempAndSync(t *testing.T) {
	ctx := t.Context()
	h, root := rootedHost(t)
	if err := h.WriteFile(ctx, "/srv/data", strings.NewReader("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, tmp, err := h.CreateTemp(ctx, "/srv/data")
	if err != nil {
		t.Fatal(err)
	}
	if dir, base := filepath.Split(tmp); dir != "/srv/" || !IsTempName(base) || !isTempOf(base, "data") {
		t.Errorf("CreateTemp made %q", tmp)
	}
	if _, err := f.WriteAt([]byte("new"), 4); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(8); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "srv/data")); string(b) != "old" {
		t.Errorf("the file changed before the rename: %q", b)
	}
	if err := h.Sync(ctx, "/srv"); err != nil {
		t.Fatal(err)
	}
	if err := h.Rename(ctx, tmp, "/srv/data"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "srv/data")); string(b) != "\x00\x00\x00\x00new\x00" {
		t.Errorf("after the rename the file holds %q", b)
	}
	long := "/srv/" + strings.Repeat("n", 255)
	if f, tmp, err := h.CreateTemp(ctx, long); err != nil {
		t.Errorf("CreateTemp of a 255-byte name: %v", err)
	} else if f.Close(); !isTempOf(filepath.Base(tmp), filepath.Base(long)) || len(filepath.Base(tmp)) > 255 {
		t.Errorf("CreateTemp of a long name made %q", tmp)
	}
	if _, _, err := h.CreateTemp(ctx, "/missing/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CreateTemp in a missing folder: %v", err)
	}
	for _, name := range []string{".data.drover-tmp", "data", ".drover-tmp"} {
		if isTempOf(name, "data") {
			t.Errorf("%q is taken for a temp file of data", name)
		}
	}
}

func TestSub(t *testing.T) {
	ctx := t.Context()
	h, root := rootedHost(t)
	for _, p := range []string{"/set/a/b", "/other"} {
		if err := h.MkdirAll(ctx, p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.WriteFile(ctx, "/other/secret", strings.NewReader("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Symlink(ctx, "../other", "/set/up"); err != nil {
		t.Fatal(err)
	}
	if err := h.Symlink(ctx, "a/b", "/set/down"); err != nil {
		t.Fatal(err)
	}
	if err := h.Symlink(ctx, "other", "/via"); err != nil {
		t.Fatal(err)
	}

	sub, err := h.Sub(ctx, "/set")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.WriteFile(ctx, "/down/f", strings.NewReader("in"), 0o644); err != nil {
		t.Errorf("a link inside the folder: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "set/a/b/f")); string(b) != "in" {
		t.Errorf("the write through an inner link landed elsewhere: %q", b)
	}
	if _, err := sub.ReadFile(ctx, "/up/secret"); !errors.Is(err, ErrOutsideRoot) || !strings.Contains(err.Error(), "/set/up/secret") {
		t.Errorf("reading through a link out of the folder: %v (the error names the path as the parent host does)", err)
	}
	if _, err := sub.ReadFile(ctx, "/../other/secret"); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("reading with .. out of the folder: %v", err)
	}
	if _, err := h.Sub(ctx, "/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Sub of a missing folder: %v", err)
	}
	if s, err := h.Sub(ctx, "/via"); err != nil {
		t.Errorf("Sub through a link inside the root: %v", err)
	} else {
		s.Close()
	}

	// The folder is held open: replacing it by a link out of the root
	// changes nothing for the confined host.
	if err := os.Rename(filepath.Join(root, "set"), filepath.Join(root, "set.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "other"), filepath.Join(root, "set")); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Lstat(ctx, "/secret"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after the swap the confined host sees the new folder: %v", err)
	}
	if _, err := sub.Open(ctx, "/secret"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after the swap the confined host opens in the new folder: %v", err)
	}
	if entries, err := sub.ReadDirStat(ctx, "/"); err != nil || len(entries) != 3 {
		t.Errorf("after the swap the confined host lists %v, %v; want its own 3 entries", entries, err)
	}

	if sub.Machine() != h.Machine() || h.Machine() != NewLocal("x", "").Machine() {
		t.Errorf("local hosts are on different machines: %q %q", sub.Machine(), h.Machine())
	}
}

func TestRealPath(t *testing.T) {
	ctx := t.Context()
	h, root := rootedHost(t)
	if err := h.MkdirAll(ctx, "/data", 0o755); err != nil {
		t.Fatal(err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Symlink(ctx, "data", "/link"); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"/", realRoot},
		{"/data", filepath.Join(realRoot, "data")},
		{"/link/x/y", filepath.Join(realRoot, "data/x/y")},
		{"/nope/z", filepath.Join(realRoot, "nope/z")},
	}
	for _, tt := range tests {
		if got, err := h.RealPath(ctx, tt.path); err != nil || got != tt.want {
			t.Errorf("RealPath(%s) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
	if _, err := h.RealPath(ctx, "/../x"); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("RealPath out of the root: %v", err)
	}
}

// events collects watch events until want says it has seen enough.
func events(t *testing.T, ch <-chan WatchEvent, want func(seen map[string]bool) bool) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	deadline := time.After(10 * time.Second)
	for !want(seen) {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the watch ended; seen %v", seen)
			}
			if ev.Err != nil {
				t.Fatal(ev.Err)
			}
			if ev.Overflow {
				seen["overflow"] = true
			}
			seen[ev.Path] = true
		case <-deadline:
			t.Fatalf("timed out; seen %v", seen)
		}
	}
	return seen
}

func has(paths ...string) func(map[string]bool) bool {
	return func(seen map[string]bool) bool {
		for _, p := range paths {
			if !seen[p] {
				return false
			}
		}
		return true
	}
}

func TestWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	h, root := rootedHost(t)
	if err := h.MkdirAll(ctx, "/set/old", 0o755); err != nil {
		t.Fatal(err)
	}
	ch, err := h.Watch(ctx, "/set")
	if err != nil {
		t.Fatal(err)
	}
	write := func(p string) {
		t.Helper()
		if err := h.WriteFile(ctx, p, strings.NewReader("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("/set/f")
	write("/set/old/g")
	events(t, ch, has("/set/f", "/set/old/g"))

	// A folder made later, with folders inside made before its watch.
	if err := os.MkdirAll(filepath.Join(root, "set/new/deep/er"), 0o755); err != nil {
		t.Fatal(err)
	}
	events(t, ch, has("/set/new"))
	write("/set/new/deep/er/h")
	events(t, ch, has("/set/new/deep/er/h"))

	// A folder moved within the tree is watched under its new name.
	if err := os.Rename(filepath.Join(root, "set/old"), filepath.Join(root, "set/moved")); err != nil {
		t.Fatal(err)
	}
	events(t, ch, has("/set/old", "/set/moved"))
	write("/set/moved/i")
	events(t, ch, has("/set/moved/i"))

	// Links are not followed.
	if err := os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(root, "set/link")); err != nil {
		t.Fatal(err)
	}
	write("/elsewhere/j")
	write("/set/k")
	if seen := events(t, ch, has("/set/k")); seen["/set/link/j"] || seen["/elsewhere/j"] {
		t.Errorf("a change through a link was reported: %v", seen)
	}

	if err := os.RemoveAll(filepath.Join(root, "set/moved")); err != nil {
		t.Fatal(err)
	}
	events(t, ch, has("/set/moved"))

	cancel()
	for range ch {
	}
	if _, err := h.Watch(t.Context(), "/set/f"); err == nil {
		t.Error("watching a file gave no error")
	}
}

func TestWatchOverflow(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h, root := rootedHost(t)
	if err := h.MkdirAll(ctx, "/set", 0o755); err != nil {
		t.Fatal(err)
	}
	ch, err := h.Watch(ctx, "/set")
	if err != nil {
		t.Fatal(err)
	}
	// Nobody reads while more events happen than the kernel queues.
	max, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skip("no inotify queue limit to exceed:", err)
	}
	var n int
	fmt.Sscan(string(max), &n)
	dir := filepath.Join(root, "set")
	for i := range n + 2048 {
		f, err := os.Create(filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	events(t, ch, has("overflow"))
}

// TestSubOneNameOps checks the operations on a name directly in a Sub
// host's folder: a final symlink is followed by Chmod and Chtimes (within
// the folder) and not by Lstat and Lchown; a folder is never replaced by a
// rename.
func TestSubOneNameOps(t *testing.T) {
	ctx := t.Context()
	h, root := rootedHost(t)
	if err := h.WriteFile(ctx, "/set/f", strings.NewReader("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(root, "set/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "set/out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "set/dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := h.Sub(ctx, "/set")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	fi, err := s.Lstat(ctx, "/link")
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 || fi.Name() != "link" {
		t.Fatalf("Lstat of a symlink: %v, %v", fi, err)
	}
	fi, err = s.Lstat(ctx, "/f")
	if st, ok := StatOf(fi); err != nil || !ok || fi.Size() != 4 || !fi.Mode().IsRegular() || st.Nlink != 1 {
		t.Fatalf("Lstat of a file: %v %+v, %v", fi, st, err)
	}
	if _, err := s.Lstat(ctx, "/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lstat of a missing name: %v", err)
	}

	if err := s.Chmod(ctx, "/link", 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(filepath.Join(root, "set/f")); fi.Mode().Perm() != 0o600 {
		t.Errorf("Chmod through a symlink left the file at %v", fi.Mode())
	}
	if err := s.Chmod(ctx, "/out", 0o777); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("Chmod through a symlink out of the folder: %v", err)
	}
	mtime := time.Date(2003, 4, 5, 6, 7, 8, 9, time.UTC)
	if err := s.Chtimes(ctx, "/link", time.Time{}, mtime); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(filepath.Join(root, "set/f")); !fi.ModTime().Equal(mtime) {
		t.Errorf("Chtimes through a symlink left the file at %v", fi.ModTime())
	}
	if err := s.Chtimes(ctx, "/out", time.Time{}, mtime); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("Chtimes through a symlink out of the folder: %v", err)
	}
	if err := s.Chtimes(ctx, "/f", time.Time{}, mtime.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(filepath.Join(root, "set/f")); !fi.ModTime().Equal(mtime.Add(time.Hour)) {
		t.Errorf("Chtimes left the file at %v", fi.ModTime())
	}

	t.Run("lchown", func(t *testing.T) {
		testenv.Root(t)
		if err := s.Lchown(ctx, "/out", 4321, 8765); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Lstat(filepath.Join(root, "set/out"))
		if st, _ := StatOf(fi); st.UID != 4321 || st.GID != 8765 {
			t.Errorf("the link is owned by %d:%d", st.UID, st.GID)
		}
	})

	if err := s.Rename(ctx, "/f", "/dir"); err == nil {
		t.Error("a file replaced a folder")
	}
	if err := s.Rename(ctx, "/f", "/g"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "set/g")); err != nil || string(b) != "data" {
		t.Errorf("after Rename: %q, %v", b, err)
	}
}

// TestSubOneNameRename checks a rename of one name to another in a Sub
// host's folder, the new name's and the replacing ones alike: a file
// replaces a file, never a folder, and a folder replaces nothing, not
// even an empty folder (as the root would have it).
func TestSubOneNameRename(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		ok       bool
		want     string // what to holds after, "dir" for a folder
	}{
		{"a file to a new name", "f", "new", true, "data f"},
		{"a file over a file", "f", "g", true, "data f"},
		{"a file over a folder", "f", "empty", false, "dir"},
		{"a folder to a new name", "dir", "new", true, "dir"},
		{"a folder over an empty folder", "dir", "empty", false, "dir"},
		{"a folder over a file", "dir", "g", false, "data g"},
		{"a folder to itself", "dir", "dir", false, "dir"},
		{"a file to itself", "f", "f", true, "data f"},
		{"a name that is not there", "none", "new", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			h, root := rootedHost(t)
			for _, f := range []string{"f", "g"} {
				if err := h.WriteFile(ctx, "/set/"+f, strings.NewReader("data "+f), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range []string{"dir", "empty"} {
				if err := os.Mkdir(filepath.Join(root, "set", d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			s, err := h.Sub(ctx, "/set")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Rename(ctx, "/"+tt.from, "/"+tt.to)
			if (err == nil) != tt.ok {
				t.Fatalf("Rename: %v, want ok %v", err, tt.ok)
			}
			to := filepath.Join(root, "set", tt.to)
			got := ""
			if fi, err := os.Lstat(to); err == nil && fi.IsDir() {
				got = "dir"
			} else if b, err := os.ReadFile(to); err == nil {
				got = string(b)
			}
			if got != tt.want {
				t.Errorf("%s holds %q, want %q", tt.to, got, tt.want)
			}
		})
	}
}
