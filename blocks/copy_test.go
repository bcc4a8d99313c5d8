package blocks

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testSize = 8<<20 + 12345 // not a whole number of blocks

func TestCopyFullThenIncremental(t *testing.T) {
	f := newFixture(t, testSize)
	res := f.mustCopy(Options{})
	f.requireSame()
	if !res.Full || res.Reason != "the target holds no earlier copy" || res.Manifest.Generation != 1 || res.Manifest.State != Complete {
		t.Fatalf("first copy: full %v (%s), generation %d, state %s", res.Full, res.Reason, res.Manifest.Generation, res.Manifest.State)
	}
	if res.BytesRead != testSize {
		t.Errorf("first copy read %d bytes of a %d-byte source", res.BytesRead, testSize)
	}
	if got, zeros := f.allocated(), int64(testSize/4); got > testSize-zeros+2*DefaultBlockSize {
		t.Errorf("the target takes %d bytes: its %d zero bytes did not become holes", got, zeros)
	}

	again := f.mustCopy(Options{})
	if again.Full || again.BlocksChanged != 0 || again.Manifest.Generation != 2 {
		t.Errorf("unchanged source: full %v, %d blocks changed, generation %d", again.Full, again.BlocksChanged, again.Manifest.Generation)
	}

	f.scribble(2, 5, 1000)
	res = f.mustCopy(Options{})
	f.requireSame()
	if res.Full || res.BlocksChanged < 5 || res.BlocksChanged > 10 || res.BytesRead != testSize {
		t.Errorf("5 scattered changes: full %v, %d blocks changed, %d bytes read", res.Full, res.BlocksChanged, res.BytesRead)
	}
	if open, err := journalOpen(context.Background(), f.target); open || err != nil {
		t.Errorf("the journal is left open after a finished copy: %v", err)
	}
	m, err := f.target.LoadManifest(context.Background())
	if err != nil || m.Generation != 3 || m.Digest() != res.Manifest.Digest() {
		t.Fatalf("manifest after the copy: %+v, %v", m, err)
	}
	st, err := f.target.Inspect(context.Background())
	if err != nil || !st.Trusted || st.Usable() != nil {
		t.Errorf("status after a copy: %+v, %v", st, err)
	}
}

func TestScanCountsChanges(t *testing.T) {
	f := newFixture(t, testSize)
	src := func() *os.File {
		s, err := os.Open(f.src)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	ch, err := Scan(context.Background(), src(), f.target, Options{Size: testSize})
	if err != nil || !ch.Full || ch.Read || ch.Bytes != testSize || ch.Blocks != blockCount(testSize, DefaultBlockSize) {
		t.Fatalf("scan before any copy: %+v, %v", ch, err)
	}
	f.mustCopy(Options{})
	f.scribble(3, 3, 10)
	ch, err = Scan(context.Background(), src(), f.target, Options{Size: testSize})
	if err != nil || ch.Full || !ch.Read || ch.Blocks != 3 || ch.Bytes != 3*DefaultBlockSize {
		t.Fatalf("scan after 3 changes: %+v, %v", ch, err)
	}
	res := f.mustCopy(Options{})
	if res.BlocksChanged != ch.Blocks || res.BytesChanged != 3*pieceSize {
		t.Errorf("the copy changed %d blocks (%d bytes written), the scan said %d blocks; want the 3 pieces of %d bytes that differ written", res.BlocksChanged, res.BytesChanged, ch.Blocks, pieceSize)
	}
	ch, err = Scan(context.Background(), src(), f.target, Options{Size: testSize, BlockSize: 4096})
	if err != nil || !ch.Rehash {
		t.Errorf("scan with another block size: %+v, %v", ch, err)
	}
}

func TestCopyExtents(t *testing.T) {
	f := newFixture(t, testSize)
	before := f.targetBytes()
	// Ranges that start and end inside blocks, as partitions on 512-byte
	// sectors may.
	ext := []Extent{{0, 4096}, {1<<20 + 512, 1 << 20}, {5 << 20, 100000}}
	res := f.mustCopy(Options{Extents: ext})
	src, got := f.source(), f.targetBytes()
	in := func(i int64) bool {
		for _, e := range ext {
			if i >= e.Off && i < e.end() {
				return true
			}
		}
		return false
	}
	for i := range int64(len(src)) {
		want := before[i]
		if in(i) {
			want = src[i]
		}
		if got[i] != want {
			t.Fatalf("byte %d is %#x, want %#x (inside the selection: %v)", i, got[i], want, in(i))
		}
	}
	if res.BytesChanged != 4096+1<<20+100000 {
		t.Errorf("changed bytes %d", res.BytesChanged)
	}
	// A wider selection copies what is new in it, and nothing else again.
	f.scribble(4, 0, 0)
	res = f.mustCopy(Options{Extents: append(ext, Extent{6 << 20, 1 << 20})})
	if res.Full || res.BytesChanged != 1<<20 {
		t.Errorf("widened selection: full %v, %d bytes changed", res.Full, res.BytesChanged)
	}
	res = f.mustCopy(Options{})
	f.requireSame()
	if res.Full {
		t.Error("selecting everything made a full copy")
	}
}

func TestSwappedTargetIsNotTrusted(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	f.mustCopy(Options{})

	// Something else writes the backup: the manifest no longer holds.
	tf, err := os.OpenFile(f.target.Path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	tf.WriteAt([]byte("intruder"), 3<<20)
	tf.Close()
	st, err := f.target.Inspect(ctx)
	if err != nil || st.Trusted || !strings.Contains(st.Why, "modified since the last copy") || st.Usable() == nil {
		t.Fatalf("status of a target written by someone else: %+v, %v", st, err)
	}
	res := f.mustCopy(Options{})
	f.requireSame()
	if !res.Full {
		t.Error("a copy to a target written by someone else was not a full copy")
	}

	// Another file under the same name (a swapped disk).
	if err := os.WriteFile(f.target.Path+".new", f.targetBytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(f.target.Path+".new", f.target.Path); err != nil {
		t.Fatal(err)
	}
	st, _ = f.target.Inspect(ctx)
	if st.Trusted || !strings.Contains(st.Why, "another file") {
		t.Fatalf("status of a replaced target: %+v", st)
	}
	if res := f.mustCopy(Options{}); !res.Full {
		t.Error("a copy to a replaced target was not a full copy")
	}
}

func TestTargetTooSmall(t *testing.T) {
	f := newFixture(t, testSize)
	os.Truncate(f.target.Path, testSize-1)
	_, err := f.copy(Options{})
	if err == nil || !strings.Contains(err.Error(), "smaller than the source") {
		t.Fatalf("copy to a smaller target: %v", err)
	}
	if _, err := os.Stat(f.target.Manifest); !os.IsNotExist(err) {
		t.Error("a refused copy left a manifest")
	}
}

func TestInterruptedCopyRollsBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	gen1 := f.targetBytes()
	f.scribble(5, 40, 3000)

	budget := int64(20000)
	orig := f.target.Host
	f.target.Host = faultyHost{Host: orig, path: f.target.Path, wrap: func(hf hostFile) hostFile { return failingWrites{hf, &budget} }}
	// Small batches, so that some were written before the failure.
	if _, err := f.copy(Options{BlockSize: 4096}); !errors.Is(err, errNoSpace) {
		t.Fatalf("copy on a disk that fills up: %v", err)
	}
	f.target.Host = orig
	if bytes.Equal(f.targetBytes(), gen1) {
		t.Fatal("the failing copy wrote nothing; the test proves nothing")
	}
	st, _ := f.target.Inspect(ctx)
	if !st.Interrupted || st.Usable() == nil || !strings.Contains(st.Usable().Error(), "interrupted") {
		t.Fatalf("status after an interrupted copy: %+v", st)
	}
	rec, err := f.target.Recover(ctx)
	if err != nil || rec == nil || rec.Finished || rec.Generation != 1 {
		t.Fatalf("recover: %+v, %v", rec, err)
	}
	if !bytes.Equal(f.targetBytes(), gen1) {
		t.Fatal("after the rollback the target is not generation 1")
	}
	st, _ = f.target.Inspect(ctx)
	if !st.Trusted || st.Interrupted || st.Usable() != nil {
		t.Fatalf("status after the rollback: %+v", st)
	}
	res := f.mustCopy(Options{})
	f.requireSame()
	if res.Full || res.Manifest.Generation != 2 {
		t.Errorf("copy after the rollback: full %v generation %d", res.Full, res.Manifest.Generation)
	}
}

// TestUnsettledCopyRollsBack: a copy whose Settled refuses the result
// (the source changed while it was read) leaves the target the generation
// it held, trusted, and returns the reason; one that settles goes on.
func TestUnsettledCopyRollsBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	gen1 := f.targetBytes()
	f.scribble(9, 40, 3000)
	changed := errors.New("the source changed")
	_, err := f.copy(Options{Settled: func(context.Context) error { return changed }})
	if !errors.Is(err, changed) {
		t.Fatalf("copy: %v", err)
	}
	if !bytes.Equal(f.targetBytes(), gen1) {
		t.Fatal("the unsettled copy was not rolled back")
	}
	st, err := f.target.Inspect(ctx)
	if err != nil || !st.Trusted || st.Interrupted || st.Manifest.Generation != 1 {
		t.Fatalf("status after the rollback: %+v, %v", st, err)
	}
	res := f.mustCopy(Options{Settled: func(context.Context) error { return nil }})
	f.requireSame()
	if res.Full || res.Manifest.Generation != 2 {
		t.Errorf("copy after the rollback: full %v generation %d", res.Full, res.Manifest.Generation)
	}
}

func TestInterruptedFirstCopyResumes(t *testing.T) {
	f := newFixture(t, testSize)
	budget := int64(5 << 20)
	orig := f.target.Host
	f.target.Host = faultyHost{Host: orig, path: f.target.Path, wrap: func(hf hostFile) hostFile { return failingWrites{hf, &budget} }}
	if _, err := f.copy(Options{Checkpoint: 1 << 20}); !errors.Is(err, errNoSpace) {
		t.Fatalf("copy on a disk that fills up: %v", err)
	}
	f.target.Host = orig
	st, _ := f.target.Inspect(context.Background())
	if st.Manifest == nil || st.Manifest.State != Partial || st.Usable() == nil {
		t.Fatalf("status after an interrupted first copy: %+v", st)
	}
	res := f.mustCopy(Options{})
	f.requireSame()
	if res.Full || res.Manifest.Generation != 1 || res.BlocksChanged*DefaultBlockSize > testSize-3<<20 {
		t.Errorf("resumed first copy: full %v, generation %d, %d blocks written", res.Full, res.Manifest.Generation, res.BlocksChanged)
	}
}

func TestVerifyCatchesCorruption(t *testing.T) {
	for _, mode := range []Verify{VerifyWritten, VerifyAll} {
		f := newFixture(t, testSize)
		f.mustCopy(Options{Verify: mode})
		f.scribble(6, 1, 100)
		src, dst := f.source(), f.targetBytes()
		var at int64
		for at = range int64(len(src)) {
			if src[at] != dst[at] {
				break
			}
		}
		orig := f.target.Host
		f.target.Host = faultyHost{Host: orig, path: f.target.Path, wrap: func(hf hostFile) hostFile { return flippingWrites{hf, at} }}
		res, err := f.copy(Options{Verify: mode})
		f.target.Host = orig
		if !errors.Is(err, ErrVerify) || res == nil || res.Manifest.State != Tainted {
			t.Fatalf("verify %d of a corrupted write: %v", mode, err)
		}
		st, _ := f.target.Inspect(context.Background())
		if u := st.Usable(); u == nil || !strings.Contains(u.Error(), "--replace") {
			t.Errorf("a tainted target is usable: %v", u)
		}
		if res := f.mustCopy(Options{Verify: mode}); !res.Full {
			t.Error("the copy after a failed verify was not a full copy")
		}
		f.requireSame()
	}
}

// changingSource changes under the copy: each pass reads the next version.
// Reads come from several goroutines at once.
type changingSource struct {
	versions [][]byte
	reads    atomic.Int64
	size     int64
}

func (s *changingSource) ReadAt(b []byte, off int64) (int, error) {
	before := s.reads.Add(int64(len(b))) - int64(len(b))
	v := s.versions[min(int(before/s.size), len(s.versions)-1)]
	return copy(b, v[off:]), nil
}

func TestRepeatedPassesUntilQuiet(t *testing.T) {
	f := newFixture(t, testSize)
	v1 := f.source()
	f.scribble(8, 4, 100)
	v2 := f.source()
	src := &changingSource{versions: [][]byte{v1, v2}, size: testSize}
	res, err := Copy(context.Background(), src, f.target, Options{Size: testSize, MaxPasses: 5})
	if err != nil {
		t.Fatal(err)
	}
	f.requireSame()
	if res.Passes != 3 || !res.Quiet {
		t.Errorf("passes %d quiet %v, want 3 passes ending quiet", res.Passes, res.Quiet)
	}

	f.scribble(9, 2, 100)
	v3 := f.source()
	f.scribble(10, 2, 100)
	src = &changingSource{versions: [][]byte{v3, f.source(), v3}, size: testSize}
	res, err = Copy(context.Background(), src, f.target, Options{Size: testSize, MaxPasses: 2})
	if err != nil || res.Passes != 2 || res.Quiet {
		t.Errorf("a source that never settles: %d passes, quiet %v, %v", res.Passes, res.Quiet, err)
	}
}

func TestFreezeBeforeFinalPass(t *testing.T) {
	f := newFixture(t, testSize)
	v1 := f.source()
	f.scribble(11, 4, 100)
	src := &changingSource{versions: [][]byte{v1, f.source()}, size: testSize}
	var frozen, thawed int
	freeze := func(ctx context.Context) (func() error, error) {
		frozen++
		if src.reads.Load() != testSize {
			t.Errorf("frozen after %d bytes read, want after the first pass", src.reads.Load())
		}
		return func() error { thawed++; return nil }, nil
	}
	res, err := Copy(context.Background(), src, f.target, Options{Size: testSize, Freeze: freeze, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.requireSame()
	if frozen != 1 || thawed != 1 || res.Passes != 2 {
		t.Errorf("frozen %d thawed %d passes %d", frozen, thawed, res.Passes)
	}
}

func TestBlockSizeChangeRehashes(t *testing.T) {
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	f.scribble(12, 2, 10)
	res := f.mustCopy(Options{BlockSize: 16 << 10})
	f.requireSame()
	if res.Full || res.BlocksChanged != 2 || res.Manifest.BlockSize != 16<<10 {
		t.Errorf("copy with a new block size: full %v, %d blocks, block size %d", res.Full, res.BlocksChanged, res.Manifest.BlockSize)
	}
}

func TestBadOptions(t *testing.T) {
	f := newFixture(t, testSize)
	for _, opts := range []Options{
		{BlockSize: 1000},
		{BlockSize: 128 << 20},
		{Extents: []Extent{{-1, 10}}},
		{Extents: []Extent{{testSize - 1, 10}}},
	} {
		if _, err := f.copy(opts); err == nil {
			t.Errorf("copy with %+v succeeded", opts)
		}
	}
	if _, err := os.Stat(f.target.Manifest); !os.IsNotExist(err) {
		t.Error("a refused copy left a manifest")
	}
}
