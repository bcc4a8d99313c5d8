package mirror

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/internal/sshtest"
)

// TestLargeFilesByChangedBlocks: a large file whose size stays is updated
// in place through the block engine, and only its changed blocks are
// written: a block corrupted on the target behind the manifest's back (the
// time put back) survives an update of another block, and only a
// comparison by content finds it.
func TestLargeFilesByChangedBlocks(t *testing.T) {
	e := newEnv(t)
	data := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	put := func(b []byte, mtime time.Time) {
		t.Helper()
		write(t, e.src("disk.img"), string(b), mtime)
	}
	put(data, t0)
	opts := Options{Preserve: PreserveAll, DeleteOrphans: true, BlockThreshold: 1 << 20}
	m := e.mirror(opts)
	e.sync(m)
	same(t, e.src(), e.dst())
	ino := func() uint64 {
		var st syscall.Stat_t
		if err := syscall.Stat(e.dst("disk.img"), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}

	// The first update of a copy without a manifest (an older version's,
	// or its manifest lost) writes every block, to a temp file renamed
	// over it (nothing journaled could roll a half-done one back), and
	// records the manifest; later ones write only what changed, in place.
	if err := os.Remove(e.dst(".disk.img.drover-blocks")); err != nil {
		t.Fatal(err)
	}
	copy(data[1<<20:], bytes.Repeat([]byte("A"), 100))
	put(data, t0.Add(time.Minute))
	e.sync(m)
	same(t, e.src(), e.dst())
	first := ino()
	if _, err := os.Stat(e.dst(".disk.img.drover-blocks")); err != nil {
		t.Fatalf("no block manifest beside the file: %v", err)
	}

	f, err := os.OpenFile(e.dst("disk.img"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte("X"), 16<<10), 3<<20)
	f.Close()
	os.Chtimes(e.dst("disk.img"), t0.Add(time.Minute), t0.Add(time.Minute))

	copy(data[2<<20:], bytes.Repeat([]byte("B"), 100))
	put(data, t0.Add(2*time.Minute))
	if got := e.sync(m); !strings.Contains(joinLines(got), "~ disk.img (mtime)") {
		t.Errorf("plan: %v", got)
	}
	if ino() != first {
		t.Error("the large file was replaced, not updated in place")
	}
	b, _ := os.ReadFile(e.dst("disk.img"))
	if !bytes.Equal(b[2<<20:2<<20+100], data[2<<20:2<<20+100]) {
		t.Error("the changed block was not written")
	}
	if !bytes.Equal(b[3<<20:3<<20+16], []byte("XXXXXXXXXXXXXXXX")) {
		t.Error("an unchanged block was rewritten: the update was not by changed blocks")
	}
	mc := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true, Checksum: true, BlockThreshold: 1 << 20})
	pl, err := mc.Plan(t.Context())
	if err != nil || joinLines(lines(pl)) != "~ disk.img (content)" {
		t.Fatalf("a comparison by content: %v %v", lines(pl), err)
	}
	if _, err := mc.Apply(t.Context(), pl, nil); err != nil {
		t.Fatal(err)
	}
	same(t, e.src(), e.dst())

	// A size change replaces the file whole: its block records go, and
	// the new copy's are recorded.
	put(append(data, 'z'), t0.Add(3*time.Minute))
	e.sync(m)
	same(t, e.src(), e.dst())
	if _, err := os.Stat(e.dst(".disk.img.drover-journal")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the journal stays after the file was replaced: %v", err)
	}
	side := sidecars("/replica/set/disk.img")
	st, err := blocks.Target{Host: e.fs2, Path: "/replica/set/disk.img", Manifest: side[0], Journal: side[1]}.Inspect(t.Context())
	if err != nil || !st.Trusted || st.Manifest.Size != int64(len(data)+1) {
		t.Errorf("after the file was replaced, its manifest: %+v, %v", st, err)
	}

	// Block records go with their file, and a source's are never copied.
	put(append(data, 'z'), t0.Add(4*time.Minute))
	e.sync(m)
	write(t, e.src(".other.drover-blocks"), "not ours to copy", t0)
	write(t, e.src("keep"), "keep", t0)
	os.Remove(e.src("disk.img"))
	got := e.sync(m)
	if !strings.Contains(joinLines(got), "- .disk.img.drover-blocks") {
		t.Errorf("plan: %v", got)
	}
	entries, _ := os.ReadDir(e.dst())
	if len(entries) != 1 || entries[0].Name() != "keep" {
		t.Errorf("on the target: %v", entries)
	}
}

// rewriting is a source file's reader that, once its first read of each
// copy returned, rewrites the whole file with a new version (every byte
// the version's number) and a new time, as a writer racing the copy does:
// what the copy reads after it is the new version.
type rewriting struct {
	t    *testing.T
	path string
	r    io.ReaderAt
	once *sync.Once
	next *byte
}

func (w rewriting) ReadAt(b []byte, off int64) (int, error) {
	n, err := w.r.ReadAt(b, off)
	w.once.Do(func() {
		*w.next++
		put(w.t, w.path, *w.next)
	})
	return n, err
}

// put writes version v of a large test file in place (as a database
// does, not a new inode), with a time of its own.
func put(t *testing.T, path string, v byte) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{v}, bigSize), 0); err != nil {
		t.Error(err)
	}
	mtime := t0.Add(time.Duration(v) * time.Minute)
	os.Chtimes(path, mtime, mtime)
}

const bigSize = 8 << 20

// TestLargeFileRewrittenWhileCopied: a large file rewritten during every
// copy of it (three tries) is left as the replica held it, never a mix of
// versions, and listed for the next run; once the source is quiet, the
// next run mirrors it. Both for an update in place by changed blocks (the
// replica has a manifest) and for one of a replica without a manifest,
// which writes every block.
func TestLargeFileRewrittenWhileCopied(t *testing.T) {
	for _, tc := range []struct {
		name     string
		manifest bool
	}{{"update by changed blocks", true}, {"without a manifest", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			write(t, e.src("db.img"), strings.Repeat("\x01", bigSize), t0)
			m := e.mirror(Options{Preserve: PreserveAll, BlockThreshold: 1 << 20})
			e.sync(m)
			if !tc.manifest {
				if err := os.Remove(e.dst(".db.img.drover-blocks")); err != nil {
					t.Fatal(err)
				}
			}
			if tc.manifest {
				put(t, e.src("db.img"), 2)
				e.sync(m)
				if _, err := os.Stat(e.dst(".db.img.drover-blocks")); err != nil {
					t.Fatalf("no manifest: %v", err)
				}
			}
			old, _ := os.ReadFile(e.dst("db.img"))
			oldInfo, _ := os.Stat(e.dst("db.img"))
			next := old[0] + 1
			put(t, e.src("db.img"), next)

			copies := 0
			sourceReader = func(path string, r io.ReaderAt) io.ReaderAt {
				copies++
				return rewriting{t: t, path: e.src("db.img"), r: r, once: &sync.Once{}, next: &next}
			}
			t.Cleanup(func() { sourceReader = func(_ string, r io.ReaderAt) io.ReaderAt { return r } })
			pl, err := m.Plan(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			rep, err := m.Apply(t.Context(), pl, nil)
			if err != nil {
				t.Fatal(err)
			}
			if copies != attempts || len(rep.Retry) != 1 || rep.Retry[0].Path != "db.img" {
				t.Fatalf("%d copies, retry %v", copies, rep.Retry)
			}
			got, _ := os.ReadFile(e.dst("db.img"))
			if !bytes.Equal(got, old) {
				versions := map[byte]int{}
				for _, b := range got {
					versions[b]++
				}
				t.Fatalf("the replica is not what it held (version %d) but bytes of versions %v", old[0], versions)
			}
			if fi, _ := os.Stat(e.dst("db.img")); !fi.ModTime().Equal(oldInfo.ModTime()) {
				t.Errorf("the replica's time changed from %v to %v", oldInfo.ModTime(), fi.ModTime())
			}

			sourceReader = func(_ string, r io.ReaderAt) io.ReaderAt { return r }
			e.sync(m)
			same(t, e.src(), e.dst())
			if tc.manifest && !sameFile(oldInfo, e.dst("db.img")) {
				t.Error("once the source was quiet, the replica was replaced, not updated by its changed blocks")
			}
		})
	}
}

func sameFile(fi os.FileInfo, path string) bool {
	now, err := os.Stat(path)
	return err == nil && os.SameFile(fi, now)
}

// cancelling is a source reader that cancels the apply once it read past
// an offset, as a Ctrl-C, or the CLI's death, stops a plugin mid-copy.
type cancelling struct {
	r      io.ReaderAt
	at     int64
	cancel context.CancelFunc
}

func (c cancelling) ReadAt(b []byte, off int64) (int, error) {
	if off >= c.at {
		c.cancel()
	}
	return c.r.ReadAt(b, off)
}

// TestLargeFileUpdateStopped: an update in place by changed blocks that is
// stopped partway (the apply's context cancelled) rolls back what it wrote
// before it returns: the replica is the version it held, whole, with no
// journal left for a next run that may never come (a source gone for
// good is the very moment the replica is needed).
func TestLargeFileUpdateStopped(t *testing.T) {
	const size = 64 << 20
	for _, at := range []int64{size / 2, size - 1<<20} {
		t.Run(fmt.Sprintf("at %d MiB", at>>20), func(t *testing.T) {
			e := newEnv(t)
			version := func(v byte) {
				write(t, e.src("db.img"), strings.Repeat(string(rune(v)), size), t0.Add(time.Duration(v)*time.Minute))
			}
			version(1)
			m := e.mirror(Options{Preserve: PreserveAll, BlockThreshold: 1 << 20})
			e.sync(m)
			version(2)
			e.sync(m)
			old, _ := os.ReadFile(e.dst("db.img"))
			version(3)

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			sourceReader = func(_ string, r io.ReaderAt) io.ReaderAt { return cancelling{r: r, at: at, cancel: cancel} }
			t.Cleanup(func() { sourceReader = func(_ string, r io.ReaderAt) io.ReaderAt { return r } })
			pl, err := m.Plan(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			m.Apply(ctx, pl, nil)

			got, _ := os.ReadFile(e.dst("db.img"))
			if !bytes.Equal(got, old) {
				versions := map[byte]int{}
				for _, b := range got {
					versions[b]++
				}
				t.Errorf("the stopped update left the replica bytes of versions %v, want all of version %d", versions, old[0])
			}
			if _, err := os.Lstat(e.dst(".db.img.drover-journal")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the undo journal is left: %v", err)
			}

			sourceReader = func(_ string, r io.ReaderAt) io.ReaderAt { return r }
			e.sync(m)
			same(t, e.src(), e.dst())
		})
	}
}

// TestFirstCopyRecordsBlocks: the whole copy of a large file records the
// sums of its blocks as they stream past, in a trusted manifest beside
// the replica, so that the file's first update is in place and writes
// only its changed blocks (not the whole file again to learn them): a
// block corrupted on the target behind the manifest's back survives it.
// Between local hosts, between machines that run ops, and through SFTP
// (SSH hosts without the agent) alike.
func TestFirstCopyRecordsBlocks(t *testing.T) {
	for _, tc := range []struct {
		name string
		via  string
	}{{"local", "local"}, {"between agents", "agents"}, {"through SFTP", "sftp"}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			// Not a whole number of blocks: the last one is short.
			data := make([]byte, 4<<20+1000)
			rng := rand.New(rand.NewPCG(2, 2))
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			write(t, e.src("disk.img"), string(data), t0)
			pair := e.pair()
			switch tc.via {
			case "agents":
				pair = Pair{Source: Endpoint{remoteAgent{newAgent(e.fs1)}, "/srv/set"}, Target: Endpoint{remoteAgent{newAgent(e.fs2)}, "/replica/set"}}
			case "sftp":
				s := sshtest.Start(t)
				dial := func(name, root string) host.Host {
					h, err := ssh.New(t.Context(), ssh.Options{Name: name, Address: s.Addr, User: s.User, IdentityFile: s.Identity,
						KnownHosts: s.KnownHosts, Root: root, NoAgent: true})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { h.Close() })
					return h
				}
				pair = Pair{Source: Endpoint{dial("fs1", e.r1), "/srv/set"}, Target: Endpoint{dial("fs2", e.r2), "/replica/set"}}
			}
			m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true, BlockThreshold: 1 << 20}, pair)
			e.sync(m)
			if got, _ := os.ReadFile(e.dst("disk.img")); !bytes.Equal(got, data) {
				t.Fatal("the replica differs from its source")
			}

			side := sidecars("/replica/set/disk.img")
			target := blocks.Target{Host: e.fs2, Path: "/replica/set/disk.img", Manifest: side[0], Journal: side[1]}
			st, err := target.Inspect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !st.Trusted || st.Manifest == nil || st.Manifest.State != blocks.Complete {
				t.Fatalf("after the first copy, the replica has no trusted, complete manifest: %+v", st)
			}
			manifest, err := target.LoadManifest(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var want []blocks.Sum
			for b := data; len(b) > 0; b = b[min(len(b), blocks.DefaultBlockSize):] {
				want = append(want, blocks.HashBlock(b[:min(len(b), blocks.DefaultBlockSize)]))
			}
			if !slices.Equal(manifest.Sums, want) {
				t.Fatalf("the manifest's %d sums are not those of the file's %d blocks", len(manifest.Sums), len(want))
			}

			before, err := os.Stat(e.dst("disk.img"))
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(e.dst("disk.img"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt(bytes.Repeat([]byte("X"), 16<<10), 3<<20)
			f.Close()
			os.Chtimes(e.dst("disk.img"), before.ModTime(), before.ModTime())
			copy(data[1<<20:], bytes.Repeat([]byte("A"), 100))
			write(t, e.src("disk.img"), string(data), t0.Add(time.Minute))
			e.sync(m)
			if !sameFile(before, e.dst("disk.img")) {
				t.Error("the first update replaced the replica instead of updating it in place")
			}
			got, _ := os.ReadFile(e.dst("disk.img"))
			if !bytes.Equal(got[1<<20:1<<20+100], data[1<<20:1<<20+100]) {
				t.Error("the changed block was not written")
			}
			if !bytes.Equal(got[3<<20:3<<20+16], []byte("XXXXXXXXXXXXXXXX")) {
				t.Error("an unchanged block was written: the first update copied the file whole")
			}
		})
	}
}

// TestSumReader expects the sums of the blocks read through a sumReader to
// be those of the block engine, however the reads split the bytes.
func TestSumReader(t *testing.T) {
	data := make([]byte, 3*blocks.DefaultBlockSize+1234)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var want []blocks.Sum
	for b := data; len(b) > 0; b = b[min(len(b), blocks.DefaultBlockSize):] {
		want = append(want, blocks.HashBlock(b[:min(len(b), blocks.DefaultBlockSize)]))
	}
	for _, tc := range []struct {
		name string
		r    func(io.Reader) io.Reader
	}{
		{"whole blocks", func(r io.Reader) io.Reader { return r }},
		{"halves", iotest.HalfReader},
		{"odd pieces", func(r io.Reader) io.Reader { return bufio.NewReaderSize(r, 7777) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sr := &sumReader{r: tc.r(bytes.NewReader(data))}
			if n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{sr}, make([]byte, 3*blocks.DefaultBlockSize)); err != nil || n != int64(len(data)) {
				t.Fatalf("read %d, %v", n, err)
			}
			if got := sr.sums(); !slices.Equal(got, want) || sr.read != int64(len(data)) {
				t.Errorf("%d sums after %d bytes, want the %d of the block engine after %d", len(got), sr.read, len(want), len(data))
			}
		})
	}
}
