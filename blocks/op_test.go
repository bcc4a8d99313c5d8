package blocks

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/google/go-cmp/cmp"
)

// transport plays a remote transport without an agent: it counts the
// bytes read through it from files at path.
type transport struct {
	host.Host
	path string
	read *atomic.Int64
}

func (t transport) OpenFile(ctx context.Context, path string, flag int, perm os.FileMode) (host.File, error) {
	f, err := t.Host.OpenFile(ctx, path, flag, perm)
	if err != nil || path != t.path {
		return f, err
	}
	return countingFile{f, t.read}, nil
}

type countingFile struct {
	host.File
	read *atomic.Int64
}

func (f countingFile) ReadAt(b []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(b, off)
	f.read.Add(int64(n))
	return n, err
}

// withAgent is a transport with an agent: each op goes through its wire
// encoding to a host of this machine, as the agent runs it there, and
// the paths it was called for are recorded.
type withAgent struct {
	transport
	agent host.Host
	mu    *sync.Mutex
	calls map[string]int
}

func newWithAgent(t transport, agent host.Host) withAgent {
	return withAgent{transport: t, agent: agent, mu: new(sync.Mutex), calls: map[string]int{}}
}

func (a withAgent) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	if name == SumsOp {
		var r SumsRequest
		if err := gob.NewDecoder(bytes.NewReader(req)).Decode(&r); err != nil {
			return nil, err
		}
		a.mu.Lock()
		a.calls[r.Path]++
		a.mu.Unlock()
	}
	return host.RunOp(ctx, a.agent, name, req)
}

func (a withAgent) called(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[path]
}

// copyFrom copies the fixture's source read through h, hashed on its
// machine where h's runs ops.
func (f *fixture) copyFrom(h host.Host, opts Options) (*Result, error) {
	f.t.Helper()
	ctx := context.Background()
	src, err := h.OpenFile(ctx, f.src, os.O_RDONLY, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	defer src.Close()
	if opts.Size == 0 {
		opts.Size = testSize
	}
	opts.Source = &HostPath{Host: h, Path: f.src}
	return Copy(ctx, src, f.target, opts)
}

// changedBytes is how many bytes the blocks of size bs that differ
// between a and b hold.
func changedBytes(a, b []byte, bs int64) int64 {
	var n int64
	for off := int64(0); off < int64(len(a)); off += bs {
		end := min(off+bs, int64(len(a)))
		if !bytes.Equal(a[off:end], b[off:end]) {
			n += end - off
		}
	}
	return n
}

// TestCopyHashedOnTheMachine: where the source's machine runs ops, an
// incremental copy reads through the transport only the blocks that
// changed; where it cannot, every byte, as before. Either way the target
// ends a copy of the source.
func TestCopyHashedOnTheMachine(t *testing.T) {
	local := host.NewLocal("test", "")
	for _, tc := range []struct {
		name  string
		host  func(transport) host.Host
		whole bool // every byte is read through the transport
	}{
		{"local host", func(transport) host.Host { return local }, false},
		{"through the agent", func(t transport) host.Host { return newWithAgent(t, host.NewLocal("agent", "")) }, false},
		{"without the agent", func(t transport) host.Host { return t }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, testSize)
			var read atomic.Int64
			h := tc.host(transport{Host: local, path: f.src, read: &read})
			f.target.Host = h
			res, err := f.copyFrom(h, Options{})
			if err != nil {
				t.Fatal(err)
			}
			f.requireSame()
			if !res.Full || res.BytesRead != testSize {
				t.Fatalf("first copy: full %v, %d bytes read of %d", res.Full, res.BytesRead, testSize)
			}
			before := f.source()
			f.scribble(21, 7, 3000)
			read.Store(0)
			agent, _ := h.(withAgent)
			res, err = f.copyFrom(h, Options{Verify: VerifyWritten})
			if err != nil {
				t.Fatal(err)
			}
			f.requireSame()
			want := changedBytes(before, f.source(), DefaultBlockSize)
			if tc.whole {
				want = testSize
			}
			if res.Full || res.BytesRead != want {
				t.Errorf("incremental copy: full %v, %d bytes read through the transport, want %d", res.Full, res.BytesRead, want)
			}
			if h != local && read.Load() != want {
				t.Errorf("%d bytes crossed the transport, want %d", read.Load(), want)
			}
			// The verify of the scattered blocks written: one op call.
			if agent.calls != nil && agent.called(f.target.Path) != 1 {
				t.Errorf("the verify called the op %d times on the target, want once", agent.called(f.target.Path))
			}
		})
	}
}

// TestSumsOp: the op's sums are those a copy records, through the wire
// encoding as on the machine itself, extents and a dropped cache
// included; what it cannot do is refused.
func TestSumsOp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	ext := []Extent{{0, 4096}, {1<<20 + 512, 1 << 20}, {5 << 20, 100000}}
	res := f.mustCopy(Options{Extents: ext})
	local := host.NewLocal("test", "")
	agent := newWithAgent(transport{Host: local}, host.NewLocal("agent", ""))
	n := blockCount(testSize, DefaultBlockSize)
	for name, h := range map[string]host.Host{"local host": local, "through the agent": agent} {
		t.Run(name, func(t *testing.T) {
			resp, err := host.Call[SumsRequest, SumsResponse](ctx, h, SumsOp, SumsRequest{
				Path: f.target.Path, Size: testSize, BlockSize: DefaultBlockSize, Extents: ext, Blocks: []BlockRange{{0, 3}, {5, n}}, DropCache: true})
			if err != nil {
				t.Fatal(err)
			}
			got := make([]Sum, n-2)
			copy(sumBytes(got), resp.Sums)
			want := append(slices.Clone(res.Manifest.Sums[:3]), res.Manifest.Sums[5:]...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("sums (-copy +op):\n%s", diff)
			}
			if resp.Identity != res.Manifest.Identity {
				t.Errorf("identity %+v, the copy recorded %+v", resp.Identity, res.Manifest.Identity)
			}
		})
	}
	for _, tc := range []struct {
		name string
		req  SumsRequest
		want string
	}{
		{"blocks outside", SumsRequest{Path: f.src, Size: testSize, Blocks: []BlockRange{{2, n + 1}}}, "lie outside"},
		{"blocks out of order", SumsRequest{Path: f.src, Size: testSize, Blocks: []BlockRange{{4, 6}, {1, 2}}}, "not after the run before"},
		{"file too small", SumsRequest{Path: f.src, Size: testSize + 1, Blocks: []BlockRange{{0, 1}}}, "fewer than"},
		{"missing file", SumsRequest{Path: f.src + ".none", Size: testSize, Blocks: []BlockRange{{0, 1}}}, "no such file"},
		{"bad block size", SumsRequest{Path: f.src, Size: testSize, BlockSize: 1000}, "multiple of 512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := host.Call[SumsRequest, SumsResponse](ctx, agent, SumsOp, tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// TestScanHashedOnTheMachine: a scan through the agent counts the
// changed blocks and reads nothing through the transport.
func TestScanHashedOnTheMachine(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	f.scribble(3, 3, 10)
	var read atomic.Int64
	h := newWithAgent(transport{Host: host.NewLocal("test", ""), path: f.src, read: &read}, host.NewLocal("agent", ""))
	src, err := h.OpenFile(ctx, f.src, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ch, err := Scan(ctx, src, f.target, Options{Size: testSize, Source: &HostPath{Host: h, Path: f.src}})
	if err != nil || ch.Full || !ch.Read || ch.Blocks != 3 || ch.Bytes != 3*DefaultBlockSize {
		t.Fatalf("scan after 3 changes: %+v, %v", ch, err)
	}
	if read.Load() != 0 || h.called(f.src) == 0 {
		t.Errorf("the scan read %d bytes through the transport and called the op %d times; want none, and the op", read.Load(), h.called(f.src))
	}
}

// TestPassesHashedOnTheMachine: the passes of a live source and the
// final pass of a frozen one take their sums from the op, and copy what
// changed during the pass before.
func TestPassesHashedOnTheMachine(t *testing.T) {
	for _, frozen := range []bool{false, true} {
		name := map[bool]string{false: "passes", true: "freeze"}[frozen]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, testSize)
			f.mustCopy(Options{})
			f.scribble(31, 4, 100)
			var read atomic.Int64
			h := newWithAgent(transport{Host: host.NewLocal("test", ""), path: f.src, read: &read}, host.NewLocal("agent", ""))
			// The source is written once more as the first pass ends.
			var once sync.Once
			written := func() { once.Do(func() { f.scribble(32, 4, 100) }) }
			opts := Options{MaxPasses: 5}
			if frozen {
				opts.Freeze = func(context.Context) (func() error, error) {
					written()
					return func() error { return nil }, nil
				}
			} else {
				opts.Progress = func(p Progress) {
					if p.Phase == "copy" && p.Pass == 1 && p.Done == p.Total {
						written()
					}
				}
			}
			res, err := f.copyFrom(h, opts)
			if err != nil {
				t.Fatal(err)
			}
			f.requireSame()
			if want := map[bool]int{false: 3, true: 2}[frozen]; res.Passes != want || res.Quiet == frozen {
				t.Errorf("%d passes, quiet %v; want %d", res.Passes, res.Quiet, want)
			}
			if h.called(f.src) < res.Passes || read.Load() > 16*DefaultBlockSize {
				t.Errorf("%d op calls, %d bytes through the transport: the passes did not hash on the machine", h.called(f.src), read.Load())
			}
		})
	}
}

// TestVerifyHashedOnTheMachine: a verify through the agent reads back
// what the medium of the target holds, on its machine, and finds a write
// corrupted on its way there.
func TestVerifyHashedOnTheMachine(t *testing.T) {
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	f.scribble(6, 1, 100)
	src, dst := f.source(), f.targetBytes()
	var at int64
	for at = range int64(len(src)) {
		if src[at] != dst[at] {
			break
		}
	}
	flipping := faultyHost{Host: host.NewLocal("test", ""), path: f.target.Path, wrap: func(hf hostFile) hostFile { return flippingWrites{hf, at} }}
	h := newWithAgent(transport{Host: flipping}, host.NewLocal("agent", ""))
	f.target.Host = h
	res, err := f.copy(Options{Verify: VerifyWritten})
	if !errors.Is(err, ErrVerify) || res == nil || res.Manifest.State != Tainted {
		t.Fatalf("verify of a corrupted write: %v", err)
	}
	if h.called(f.target.Path) == 0 {
		t.Error("the verify did not hash on the target's machine")
	}
}

// TestReplacedSourceIsRefused: sums of another file than the one read
// through the transport are never used.
func TestReplacedSourceIsRefused(t *testing.T) {
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	f.scribble(41, 3, 100)
	// The agent's machine holds another file at the source's path.
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, filepath.Dir(f.src)), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, f.src), f.source(), 0o600); err != nil {
		t.Fatal(err)
	}
	gen1 := f.targetBytes()
	h := newWithAgent(transport{Host: host.NewLocal("test", "")}, host.NewLocal("agent", other))
	_, err := f.copyFrom(h, Options{})
	if err == nil || !strings.Contains(err.Error(), "replaced by another file") {
		t.Fatalf("copy hashed from another file: %v", err)
	}
	if !bytes.Equal(f.targetBytes(), gen1) {
		t.Error("the refused copy changed the target")
	}
}

func TestSegments(t *testing.T) {
	ranges := []blockRange{{0, 20}, {30, 33}, {40, 41}}
	starts := []int64{0, 5, 6, 7} // chunks of 4 blocks
	segs := segments(ranges, starts, 4, 2)
	var got [][]blockRange
	for _, s := range segs {
		got = append(got, s.ranges)
	}
	want := [][]blockRange{{{0, 8}}, {{8, 16}}, {{16, 20}, {30, 33}}, {{40, 41}}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(blockRange{})); diff != "" {
		t.Fatalf("segments (-want +got):\n%s", diff)
	}
	s := segs[2]
	s.sums = make([]Sum, 7)
	for i := range s.sums {
		s.sums[i][0] = byte(i + 1)
	}
	if got := s.sumsOf(30)[0][0]; got != 5 {
		t.Errorf("the sums of block 30 start at %d, want the fifth", got)
	}
}

// TestCopyHashedInSegments: a source of several segments, hashed by
// several op calls, is copied whole.
func TestCopyHashedInSegments(t *testing.T) {
	const size = 40<<20 + 1000
	f := newFixture(t, size)
	f.mustCopy(Options{BlockSize: 512})
	f.scribble(51, 20, 5000)
	before := f.targetBytes()
	var read atomic.Int64
	h := newWithAgent(transport{Host: host.NewLocal("test", ""), path: f.src, read: &read}, host.NewLocal("agent", ""))
	res, err := f.copyFrom(h, Options{Size: size, BlockSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	f.requireSame()
	if want := changedBytes(before, f.source(), 512); res.BytesRead != want || read.Load() != want {
		t.Errorf("%d bytes read through the transport (%d counted), want %d", res.BytesRead, read.Load(), want)
	}
	if n := h.called(f.src); n != 2 {
		t.Errorf("%d op calls for %d blocks, want 2 of at most %d", n, blockCount(size, 512), segmentBlocks)
	}
}

// TestInterruptedCopyHashedOnTheMachineRollsBack: the undo journal of a
// copy whose readers read the target's old bytes (a source hashed on its
// machine) puts the target back as it was.
func TestInterruptedCopyHashedOnTheMachineRollsBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	gen1 := f.targetBytes()
	f.scribble(5, 40, 3000)
	budget := int64(20000)
	orig := f.target.Host
	f.target.Host = faultyHost{Host: orig, path: f.target.Path, wrap: func(hf hostFile) hostFile { return failingWrites{hf, &budget} }}
	h := newWithAgent(transport{Host: host.NewLocal("test", "")}, host.NewLocal("agent", ""))
	if _, err := f.copyFrom(h, Options{BlockSize: 4096}); !errors.Is(err, errNoSpace) {
		t.Fatalf("copy on a disk that fills up: %v", err)
	}
	f.target.Host = orig
	if bytes.Equal(f.targetBytes(), gen1) || h.called(f.src) == 0 {
		t.Fatal("the failing copy wrote nothing, or did not hash on the machine; the test proves nothing")
	}
	if rec, err := f.target.Recover(ctx); err != nil || rec == nil || rec.Finished || rec.Generation != 1 {
		t.Fatalf("recover: %+v, %v", rec, err)
	}
	if !bytes.Equal(f.targetBytes(), gen1) {
		t.Fatal("after the rollback the target is not generation 1")
	}
	res, err := f.copyFrom(h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.requireSame()
	if res.Full || res.Manifest.Generation != 2 {
		t.Errorf("copy after the rollback: full %v generation %d", res.Full, res.Manifest.Generation)
	}
}
