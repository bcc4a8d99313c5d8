package ssh

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/google/go-cmp/cmp"
)

// rootedHost connects to s as a host rooted at a new folder, which it
// returns as this machine names it (the server is this machine).
func rootedHost(t *testing.T, s *sshtest.Server) (*Host, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	opts := options(s, "fs1")
	opts.Root = root
	return connect(t, opts), root
}

// withoutAgent keeps h to SFTP and exec, as on a machine the agent cannot
// run on: one of another system, whose cache never held this build.
func withoutAgent(h *Host) {
	h.c.uname = "echo Plan9 mips"
	h.c.opts.AgentCache = path.Join(h.c.opts.AgentCache, "plan9")
}

// TestFileOperations runs each operation through the agent and, on a
// machine without one, through SFTP.
func TestFileOperations(t *testing.T) {
	s := sshtest.Start(t)
	for _, viaAgent := range []bool{true, false} {
		name := "agent"
		if !viaAgent {
			name = "sftp"
		}
		t.Run(name, func(t *testing.T) {
			h, root := rootedHost(t, s)
			if !viaAgent {
				withoutAgent(h)
			}
			testFileOperations(t, s, h, root, viaAgent)
		})
	}
}

func testFileOperations(t *testing.T, s *sshtest.Server, h *Host, root string, viaAgent bool) {
	ctx := context.Background()
	local := func(p string) string { return filepath.Join(root, p) }

	t.Run("write and read", func(t *testing.T) {
		if err := h.WriteFile(ctx, "/etc/app/conf", strings.NewReader("a=1\n"), 0o640); err != nil {
			t.Fatal(err)
		}
		got, err := h.ReadFile(ctx, "/etc/app/conf")
		if err != nil || string(got) != "a=1\n" {
			t.Fatalf("ReadFile = %q, %v", got, err)
		}
		fi, err := os.Stat(local("etc/app/conf"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("mode on the machine = %v, want 0640", fi.Mode().Perm())
		}
		r, err := h.Open(ctx, "/etc/app/conf")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(b) != "a=1\n" {
			t.Errorf("Open then read = %q, %v", b, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := h.ReadFile(ctx, "/nope")
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), `host "fs1"`) || !strings.Contains(err.Error(), "/nope") {
			t.Errorf("ReadFile of a missing file: %v, want fs.ErrNotExist naming the host and the path", err)
		}
	})
	t.Run("mkdir, chmod, lstat", func(t *testing.T) {
		if err := h.MkdirAll(ctx, "/a/b/c", 0o750); err != nil {
			t.Fatal(err)
		}
		if err := h.MkdirAll(ctx, "/a/b/c", 0o750); err != nil {
			t.Fatalf("MkdirAll of an existing folder: %v", err)
		}
		if err := h.Chmod(ctx, "/a/b", 0o700); err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]fs.FileMode{"/a/b/c": fs.ModeDir | 0o750, "/a/b": fs.ModeDir | 0o700} {
			fi, err := h.Lstat(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != want {
				t.Errorf("Lstat(%s).Mode() = %v, want %v", p, fi.Mode(), want)
			}
		}
	})
	t.Run("symlink, readlink, link", func(t *testing.T) {
		if err := h.Symlink(ctx, "app/conf", "/etc/conf-link"); err != nil {
			t.Fatal(err)
		}
		target, err := h.Readlink(ctx, "/etc/conf-link")
		if err != nil || target != "app/conf" {
			t.Errorf("Readlink = %q, %v", target, err)
		}
		fi, err := h.Lstat(ctx, "/etc/conf-link")
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("Lstat of a symlink = %v, %v: want a symlink", fi, err)
		}
		if b, err := h.ReadFile(ctx, "/etc/conf-link"); err != nil || string(b) != "a=1\n" {
			t.Errorf("ReadFile through a symlink inside the root = %q, %v", b, err)
		}
		if err := h.Link(ctx, "/etc/app/conf", "/etc/conf-hard"); err != nil {
			t.Fatal(err)
		}
		a, _ := os.Stat(local("etc/app/conf"))
		b, _ := os.Stat(local("etc/conf-hard"))
		if !os.SameFile(a, b) {
			t.Error("Link made no hard link")
		}
	})
	t.Run("lchown and chtimes", func(t *testing.T) {
		if err := h.Lchown(ctx, "/etc/conf-link", 1234, 5678); err != nil {
			t.Fatal(err)
		}
		st, ok := host.StatOf(mustLstat(t, local("etc/conf-link")))
		if !ok || st.UID != 1234 || st.GID != 5678 {
			t.Errorf("owner of the symlink = %d:%d, want 1234:5678", st.UID, st.GID)
		}
		if st, _ := host.StatOf(mustLstat(t, local("etc/app/conf"))); st.UID == 1234 {
			t.Error("Lchown followed the symlink")
		}
		if err := h.Lchown(ctx, "/missing", 1, 1); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Lchown of a missing file: %v, want fs.ErrNotExist", err)
		}
		mtime := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
		if err := h.Chtimes(ctx, "/etc/app/conf", mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if got := mustLstat(t, local("etc/app/conf")).ModTime(); !got.Equal(mtime) {
			t.Errorf("mtime = %v, want %v", got, mtime)
		}
	})
	t.Run("readdir and readdirstat", func(t *testing.T) {
		entries, err := h.ReadDir(ctx, "/etc")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if diff := cmp.Diff([]string{"app", "conf-hard", "conf-link"}, names); diff != "" {
			t.Errorf("ReadDir names (-want +got):\n%s", diff)
		}
		stats, err := h.ReadDirStat(ctx, "/etc")
		if err != nil {
			t.Fatal(err)
		}
		want := []host.EntryStat{
			{Name: "app", Mode: fs.ModeDir | 0o755},
			{Name: "conf-hard", Size: 4, Mode: 0o640},
			{Name: "conf-link", Link: "app/conf", Size: int64(len("app/conf")), Mode: fs.ModeSymlink | 0o777},
		}
		if viaAgent {
			// Inodes and owners too: as the machine's own transport
			// lists the folder.
			want, err = host.NewLocal("fs1", root).ReadDirStat(ctx, "/etc")
			if err != nil {
				t.Fatal(err)
			}
			fi, err := h.Lstat(ctx, "/etc/conf-hard")
			if st, ok := host.StatOf(fi); err != nil || !ok || st.Nlink != 2 || st.Ino != want[1].Ino {
				t.Errorf("Lstat tells %+v (known %v), want the inode %d and 2 links: %v", st, ok, want[1].Ino, err)
			}
		}
		ignoreTimes := cmp.Transformer("", func(e host.EntryStat) host.EntryStat {
			e.MTime = 0
			if e.Mode.IsDir() {
				e.Size = 0
			}
			return e
		})
		if diff := cmp.Diff(want, stats, ignoreTimes); diff != "" {
			t.Errorf("ReadDirStat (-want +got):\n%s", diff)
		}
	})
	t.Run("rename and remove", func(t *testing.T) {
		if err := h.WriteFile(ctx, "/r/old", strings.NewReader("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := h.WriteFile(ctx, "/r/new", strings.NewReader("replaced"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := h.Rename(ctx, "/r/old", "/r/new"); err != nil {
			t.Fatalf("Rename over an existing file: %v", err)
		}
		if b, _ := os.ReadFile(local("r/new")); string(b) != "x" {
			t.Errorf("after Rename the target holds %q", b)
		}
		if err := h.Remove(ctx, "/r/new"); err != nil {
			t.Fatal(err)
		}
		if err := h.Remove(ctx, "/r/new"); err != nil {
			t.Errorf("Remove of a missing file: %v, want nil", err)
		}
		if err := h.Remove(ctx, "/r"); err != nil {
			t.Errorf("Remove of an empty folder: %v", err)
		}
		if _, err := os.Lstat(local("r")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the folder is still there: %v", err)
		}
	})
	t.Run("open file for random access", func(t *testing.T) {
		f, err := h.OpenFile(ctx, "/disk.img", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(1 << 20); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("block"), 4096); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5)
		if _, err := f.ReadAt(buf, 4096); err != nil || string(buf) != "block" {
			t.Errorf("ReadAt = %q, %v", buf, err)
		}
		if end, err := f.Seek(0, io.SeekEnd); err != nil || end != 1<<20 {
			t.Errorf("Seek to the end = %d, %v", end, err)
		}
		if err := f.Sync(); err != nil {
			t.Errorf("Sync: %v", err)
		}
		if !viaAgent {
			if err := f.PunchHole(0, 4096); !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("PunchHole: %v, want errors.ErrUnsupported", err)
			}
		} else {
			if err := f.PunchHole(4096, 4096); err != nil {
				t.Errorf("PunchHole: %v", err)
			}
			if _, err := f.ReadAt(buf, 4096); err != nil || string(buf) != "\x00\x00\x00\x00\x00" {
				t.Errorf("ReadAt of the hole = %q, %v", buf, err)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if fi := mustLstat(t, local("disk.img")); fi.Mode().Perm() != 0o600 || fi.Size() != 1<<20 {
			t.Errorf("the file on the machine: mode %v size %d", fi.Mode().Perm(), fi.Size())
		}
		// As os.OpenFile says it: callers open an existing file when
		// this fails (blocks' undo journal, which stays between copies).
		if _, err := h.OpenFile(ctx, "/disk.img", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
			t.Errorf("O_EXCL on an existing file: %v, want fs.ErrExist", err)
		}
	})
	t.Run("create temp, rename, sync", func(t *testing.T) {
		if _, _, err := h.CreateTemp(ctx, "/t/file"); err == nil {
			t.Fatal("CreateTemp in a missing folder succeeded")
		}
		if err := h.MkdirAll(ctx, "/t", 0o755); err != nil {
			t.Fatal(err)
		}
		f, tmp, err := h.CreateTemp(ctx, "/t/file")
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(f, "temp")
		f.Close()
		if err := h.Rename(ctx, tmp, "/t/file"); err != nil {
			t.Fatal(err)
		}
		if err := h.Sync(ctx, "/t/file"); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(local("t/file")); string(b) != "temp" {
			t.Errorf("the file holds %q", b)
		}
	})
	t.Run("sub and realpath", func(t *testing.T) {
		sub, err := h.Sub(ctx, "/etc")
		if err != nil {
			t.Fatal(err)
		}
		if b, err := sub.ReadFile(ctx, "/app/conf"); err != nil || string(b) != "a=1\n" {
			t.Errorf("Sub's ReadFile = %q, %v", b, err)
		}
		if _, err := sub.ReadFile(ctx, "/../disk.img"); !errors.Is(err, host.ErrOutsideRoot) {
			t.Errorf("Sub's ReadFile above its folder: %v, want ErrOutsideRoot", err)
		}
		if _, err := sub.ReadFile(ctx, "/missing"); err == nil || !strings.Contains(err.Error(), "/etc/missing") {
			t.Errorf("Sub's error %v does not name the path as its parent would", err)
		}
		sub.Close()
		if _, err := h.Lstat(ctx, "/etc"); err != nil {
			t.Errorf("closing a Sub host closed its parent: %v", err)
		}
		real, err := h.RealPath(ctx, "/etc/conf-link")
		if err != nil || real != local("etc/app/conf") {
			t.Errorf("RealPath = %q, %v; want %q", real, err, local("etc/app/conf"))
		}
		if h.Machine() != "ssh://"+s.Addr {
			t.Errorf("Machine() = %q", h.Machine())
		}
	})
	// The agent watches and clones (TestAgentWatch).
	if viaAgent {
		return
	}
	t.Run("watch, tripwire and reflink unsupported", func(t *testing.T) {
		if _, err := h.Watch(ctx, "/etc"); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Watch: %v", err)
		}
		if err := h.Reflink(ctx, "/etc/app/conf", "/etc/app/conf.clone"); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Reflink: %v", err)
		}
		if _, err := h.Tripwire(ctx, "/etc"); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Tripwire: %v", err)
		}
	})
}

func mustLstat(t *testing.T, p string) fs.FileInfo {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// failingReader gives some bytes, then fails: a source that breaks mid-copy.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("source broke")
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

func TestWriteFileAtomic(t *testing.T) {
	s := sshtest.Start(t)
	h, root := rootedHost(t, s)
	ctx := context.Background()
	if err := h.WriteFile(ctx, "/state.json", strings.NewReader("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A hard link to the old file keeps the old content: the new one is
	// a new file renamed over the name, never a rewrite in place.
	if err := os.Link(filepath.Join(root, "state.json"), filepath.Join(root, "old-link")); err != nil {
		t.Fatal(err)
	}
	if err := h.WriteFile(ctx, "/state.json", strings.NewReader("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "old-link")); string(b) != "old" {
		t.Errorf("the old file was written in place: it now holds %q", b)
	}
	err := h.WriteFile(ctx, "/state.json", &failingReader{n: 1 << 20}, 0o600)
	if err == nil || !strings.Contains(err.Error(), "source broke") {
		t.Fatalf("WriteFile from a failing reader: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "state.json")); string(b) != "new" {
		t.Errorf("a failed write changed the file: it holds %q", b)
	}
	entries, _ := os.ReadDir(root)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"old-link", "state.json"}, names); diff != "" {
		t.Errorf("files left in the folder (-want +got):\n%s", diff)
	}
	if err := h.WriteFile(ctx, "/state.json/x", strings.NewReader("x"), 0o600); !errors.Is(err, host.ErrParentNotFolder) {
		t.Errorf("WriteFile below a file: %v, want ErrParentNotFolder", err)
	}
}

func TestRootConfinement(t *testing.T) {
	s := sshtest.Start(t)
	h, root := rootedHost(t, s)
	ctx := context.Background()
	outside := filepath.Join(filepath.Dir(root), "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	sshtest.WriteFile(t, filepath.Join(outside, "secret"), "secret")
	if err := h.MkdirAll(ctx, "/in", 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"out-abs":      outside,
		"out-rel":      "../outside",
		"out-dangling": filepath.Join(outside, "new"),
		"out-chain":    "in/../out-rel",
		"in-link":      "in",
	} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		op   func() error
	}{
		{"read through ..", func() error { _, err := h.ReadFile(ctx, "/../outside/secret"); return err }},
		{"read through an absolute symlink", func() error { _, err := h.ReadFile(ctx, "/out-abs/secret"); return err }},
		{"read through a relative symlink", func() error { _, err := h.ReadFile(ctx, "/out-rel/secret"); return err }},
		{"read through a chain of symlinks", func() error { _, err := h.ReadFile(ctx, "/out-chain/secret"); return err }},
		{"list through a symlink", func() error { _, err := h.ReadDir(ctx, "/out-abs"); return err }},
		{"write through a symlink", func() error { return h.WriteFile(ctx, "/out-abs/planted", strings.NewReader("x"), 0o644) }},
		{"create through a dangling symlink", func() error {
			_, err := h.OpenFile(ctx, "/out-dangling", os.O_WRONLY|os.O_CREATE, 0o644)
			return err
		}},
		{"mkdir through a symlink", func() error { return h.MkdirAll(ctx, "/out-rel/made", 0o755) }},
		{"chmod through a symlink", func() error { return h.Chmod(ctx, "/out-abs/secret", 0o777) }},
		{"remove through a symlink", func() error { return h.Remove(ctx, "/out-abs/secret") }},
		{"sub through a symlink", func() error { _, err := h.Sub(ctx, "/out-abs"); return err }},
		{"run in a folder through a symlink", func() error {
			_, err := h.Run(ctx, []string{"true"}, host.RunOptions{Dir: "/out-abs"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if !errors.Is(err, host.ErrOutsideRoot) {
				t.Fatalf("err = %v, want ErrOutsideRoot", err)
			}
			if !strings.Contains(err.Error(), root) {
				t.Errorf("the error %q does not name the root", err)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "secret" {
		t.Error("the file outside the root changed")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("something was made outside the root: %v", entries)
	}
	// The symlinks themselves are the host's to see and remove.
	if target, err := h.Readlink(ctx, "/out-abs"); err != nil || target != outside {
		t.Errorf("Readlink of a symlink leading out = %q, %v", target, err)
	}
	if err := h.WriteFile(ctx, "/in-link/ok", strings.NewReader("ok"), 0o644); err != nil {
		t.Errorf("writing through a symlink inside the root: %v", err)
	}
	if err := h.Remove(ctx, "/out-abs"); err != nil {
		t.Errorf("removing a symlink leading out: %v", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("removing the symlink removed its target: %v", err)
	}
}

// The root itself is the folder "/" of a rooted host and of a Sub host:
// Lstat and ReadDirStat of "/" are how walkers start a tree.
func TestRootItself(t *testing.T) {
	s := sshtest.Start(t)
	h, _ := rootedHost(t, s)
	ctx := context.Background()
	if err := h.WriteFile(ctx, "/srv/data/a", strings.NewReader("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub, err := h.Sub(ctx, "/srv/data")
	if err != nil {
		t.Fatal(err)
	}
	for name, hh := range map[string]host.Host{"rooted": h, "sub": sub} {
		t.Run(name, func(t *testing.T) {
			fi, err := hh.Lstat(ctx, "/")
			if err != nil || !fi.IsDir() {
				t.Fatalf("Lstat(/) = %v, %v; want the root folder", fi, err)
			}
			if _, err := hh.ReadDirStat(ctx, "/"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
