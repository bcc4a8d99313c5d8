package mirror

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
)

// remoteAgent plays a host of another machine whose transport runs ops
// (the SSH agent): its Machine is not this one.
type remoteAgent struct{ agent }

func (a remoteAgent) Machine() string { return "remote " + a.Name() }

// TestSmallFilesInBatches: between machines that run ops, small files
// cross in batches, a read op on the source's machine and a write op on
// the target's for up to a chunk of a folder's files, first sync and
// updates alike, with the same result as a copy file by file: modes,
// times, a symlink, a sparse and a large file beside them, a file that
// replaces a large one with block records; folders are made, and given
// their metadata, in one op call each.
func TestSmallFilesInBatches(t *testing.T) {
	e := newEnv(t)
	for i := range 100 {
		write(t, e.src("many", fmt.Sprintf("f%03d.txt", i)), strings.Repeat("x", i), t0)
	}
	for i := range 3 {
		write(t, e.src("few", fmt.Sprintf("g%d", i)), "g", t0)
	}
	if err := os.Chmod(e.src("few", "g1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(e.src("few"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("g1", e.src("few", "link")); err != nil {
		t.Fatal(err)
	}
	write(t, e.src("empty.txt"), "", t0)
	large := bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16)
	write(t, e.src("disk.img"), string(large), t0)
	write(t, e.src("shrinks.img"), string(large), t0)
	sparse := e.src("sparse.bin")
	write(t, sparse, "", t0)
	if err := os.Truncate(sparse, 512<<10); err != nil {
		t.Fatal(err)
	}

	fs1, fs2 := remoteAgent{newAgent(e.fs1)}, remoteAgent{newAgent(e.fs2)}
	m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true, BlockThreshold: 1 << 20},
		Pair{Source: Endpoint{fs1, "/srv/set"}, Target: Endpoint{fs2, "/replica/set"}})
	e.sync(m)
	same(t, e.src(), e.dst())
	// Chunks of 64 files of a folder: 2 of many, 1 of few, 1 of the top
	// (empty.txt; the sparse and the large files go one by one).
	if r, w := fs1.count(readOp), fs2.count(writeOp); r != 4 || w != 4 {
		t.Errorf("first sync: %d reads and %d writes in batches, want 4 and 4", r, w)
	}
	// The folders are made at once, and given their metadata at once.
	if mk, meta := fs2.count(mkdirsOp), fs2.count(metaOp); mk != 1 || meta != 1 {
		t.Errorf("first sync: %d and %d op calls to make folders and set their metadata, want 1 and 1", mk, meta)
	}

	for _, i := range []int{3, 50, 99} {
		write(t, e.src("many", fmt.Sprintf("f%03d.txt", i)), "changed", t0.Add(time.Minute))
	}
	write(t, e.src("shrinks.img"), "small now", t0.Add(time.Minute))
	e.sync(m)
	same(t, e.src(), e.dst())
	if r, w := fs1.count(readOp), fs2.count(writeOp); r != 6 || w != 6 {
		t.Errorf("after updates: %d reads and %d writes in batches, want 6 and 6", r, w)
	}
	if mk, meta := fs2.count(mkdirsOp), fs2.count(metaOp); mk != 1 || meta != 2 {
		t.Errorf("after updates: %d and %d op calls to make folders and set their metadata, want 1 and 2", mk, meta)
	}
	if _, err := os.Lstat(e.dst(".shrinks.img" + manifestSuffix)); !os.IsNotExist(err) {
		t.Errorf("the block records of a large file replaced by a small one stay: %v", err)
	}

	// Between the plan and the apply, one file grows large, one goes:
	// both are left for the next run, the others of their batch mirrored.
	for _, i := range []int{10, 11, 12} {
		write(t, e.src("many", fmt.Sprintf("f%03d.txt", i)), "later", t0.Add(2*time.Minute))
	}
	pl, err := m.Plan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	write(t, e.src("many", "f010.txt"), string(large), t0.Add(3*time.Minute))
	if err := os.Remove(e.src("many", "f011.txt")); err != nil {
		t.Fatal(err)
	}
	rep, err := m.Apply(t.Context(), pl, nil)
	if err != nil {
		t.Fatal(err)
	}
	var retry []string
	for _, pe := range rep.Retry {
		retry = append(retry, pe.Path)
	}
	if want := []string{"many/f010.txt", "many/f011.txt"}; !slices.Equal(retry, want) {
		t.Errorf("left for the next run: %q, want %q", retry, want)
	}
	if b, err := os.ReadFile(e.dst("many", "f012.txt")); err != nil || string(b) != "later" {
		t.Errorf("the file mirrored beside them holds %q, %v", b, err)
	}
	e.sync(m)
	same(t, e.src(), e.dst())
}

// pathCalls counts the calls of a host that change an entry's metadata
// by its name.
type pathCalls struct {
	host.Host
	n int
}

func (p *pathCalls) Lchown(ctx context.Context, path string, uid, gid int) error {
	p.n++
	return p.Host.Lchown(ctx, path, uid, gid)
}

func (p *pathCalls) Chmod(ctx context.Context, path string, mode fs.FileMode) error {
	p.n++
	return p.Host.Chmod(ctx, path, mode)
}

func (p *pathCalls) Chtimes(ctx context.Context, path string, atime, mtime time.Time) error {
	p.n++
	return p.Host.Chtimes(ctx, path, atime, mtime)
}

// TestWriteOpMetadataThroughFile expects the write op to give each file
// its owner, mode and time through the temp file it wrote, still open,
// not by its name: no lookup of the name for each, on the machine.
func TestWriteOpMetadataThroughFile(t *testing.T) {
	dir := t.TempDir()
	h := &pathCalls{Host: host.NewLocal("fs", dir)}
	defer h.Close()
	src := host.EntryStat{Name: "f", Size: 4, MTime: t0.UnixNano(), Mode: 0o640, UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), HasStat: true}
	req := WriteRequest{Preserve: PreserveAll, Files: []WriteFile{{Name: "f", Src: src, data: []byte("data")}}}
	resp, err := writeOnMachine(t.Context(), h, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Results[0].err(); err != nil {
		t.Fatal(err)
	}
	if h.n != 0 {
		t.Errorf("%d calls set the metadata by the file's name, want 0", h.n)
	}
	fi, err := os.Lstat(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o640 || !fi.ModTime().Equal(t0) || fi.Size() != 4 {
		t.Errorf("written: %v %v %d bytes, want %v %v 4", fi.Mode(), fi.ModTime(), fi.Size(), fs.FileMode(0o640), t0)
	}
}

// TestFoldersMadeWithTheirFiles: between machines that run ops, a new
// folder into which only batches write is made by its first batch, not
// with the others before any file (where a tree's files land scattered
// on the disk); one that gets a large file is made before. A folder its
// batch cannot make fails its files, naming why, and the next sync
// completes the replica.
func TestFoldersMadeWithTheirFiles(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		write(t, e.src("a", "b", "c", fmt.Sprintf("f%d", i)), "c", t0)
	}
	write(t, e.src("a", "x"), "x", t0)
	write(t, e.src("d", "big.img"), randomData(2<<20, 5), t0)
	write(t, e.src("d", "small"), "s", t0)
	fs1, fs2 := remoteAgent{newAgent(e.fs1)}, remoteAgent{newAgent(e.fs2)}
	m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true},
		Pair{Source: Endpoint{fs1, "/srv/set"}, Target: Endpoint{fs2, "/replica/set"}})
	pl, err := m.Plan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// A file put where a folder is to be made fails that folder's files
	// (its batch makes it), where a folder made before them would fail
	// itself.
	if err := os.MkdirAll(e.dst("a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, e.dst("a", "b", "c"), "in the way", t0)
	rep, err := m.Apply(t.Context(), pl, nil)
	if err == nil {
		t.Fatal("an apply whose folder could not be made succeeded")
	}
	var failed []string
	for _, pe := range rep.Errors {
		failed = append(failed, pe.Path)
		if !strings.Contains(pe.Error(), "a/b/c") {
			t.Errorf("%s failed with %q, which does not name the folder", pe.Path, pe.Error())
		}
	}
	if want := []string{"a/b/c/f0", "a/b/c/f1", "a/b/c/f2"}; !slices.Equal(failed, want) {
		t.Errorf("failed: %q, want %q", failed, want)
	}
	if b, err := os.ReadFile(e.dst("a", "x")); err != nil || string(b) != "x" {
		t.Errorf("a file of another folder holds %q, %v", b, err)
	}
	if err := os.Remove(e.dst("a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	e.sync(m)
	same(t, e.src(), e.dst())
}
