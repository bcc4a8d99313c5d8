package blocks

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/drover-dr/drover/host"
)

// fixture is a source and a target image in a test folder.
type fixture struct {
	t      *testing.T
	h      host.Host
	dir    string
	src    string
	target Target
}

func newFixture(t *testing.T, size int64) *fixture {
	t.Helper()
	dir := t.TempDir()
	h := host.NewLocal("test", "")
	f := &fixture{t: t, h: h, dir: dir, src: filepath.Join(dir, "src.img"), target: Beside(h, filepath.Join(dir, "dst.img"))}
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, uint64(size)))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	// Zero regions that must become holes.
	clear(data[size/4 : size/2])
	if err := os.WriteFile(f.src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.target.Path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f.target.Path, size); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) source() []byte {
	b, err := os.ReadFile(f.src)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *fixture) targetBytes() []byte {
	b, err := os.ReadFile(f.target.Path)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// scribble overwrites n scattered regions of length l of the source with
// new random bytes.
func (f *fixture) scribble(seed uint64, n int, l int64) {
	f.t.Helper()
	b := f.source()
	rng := rand.New(rand.NewPCG(seed, 7))
	for range n {
		off := rng.Int64N(int64(len(b)) - l)
		for i := off; i < off+l; i++ {
			b[i] = byte(rng.Uint32())
		}
	}
	if err := os.WriteFile(f.src, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) copy(opts Options) (*Result, error) {
	f.t.Helper()
	src, err := os.Open(f.src)
	if err != nil {
		f.t.Fatal(err)
	}
	defer src.Close()
	fi, _ := src.Stat()
	if opts.Size == 0 {
		opts.Size = fi.Size()
	}
	return Copy(context.Background(), src, f.target, opts)
}

func (f *fixture) mustCopy(opts Options) *Result {
	f.t.Helper()
	res, err := f.copy(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *fixture) requireSame() {
	f.t.Helper()
	if !bytes.Equal(f.source(), f.targetBytes()) {
		f.t.Fatal("the target differs from the source")
	}
}

// allocated is how many bytes the target file occupies on disk.
func (f *fixture) allocated() int64 {
	fi, err := os.Stat(f.target.Path)
	if err != nil {
		f.t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}

// faultyHost hands out target files that misbehave.
type faultyHost struct {
	host.Host
	path string
	wrap func(host.File) host.File
}

func (h faultyHost) OpenFile(ctx context.Context, path string, flag int, perm os.FileMode) (host.File, error) {
	f, err := h.Host.OpenFile(ctx, path, flag, perm)
	if err != nil || path != h.path {
		return f, err
	}
	return h.wrap(f), nil
}

// failingWrites fails every write after budget bytes, as a full disk or
// a crash would stop them.
type failingWrites struct {
	host.File
	budget *int64
}

func (f failingWrites) WriteAt(b []byte, off int64) (int, error) {
	if *f.budget < int64(len(b)) {
		n := max(*f.budget, 0)
		f.File.WriteAt(b[:n], off)
		*f.budget = -1
		return int(n), syscall.ENOSPC
	}
	*f.budget -= int64(len(b))
	return f.File.WriteAt(b, off)
}

func (f failingWrites) PunchHole(off, n int64) error { return f.File.PunchHole(off, n) }

// flippingWrites corrupts one byte at off on its way to the medium, as a
// failing disk would.
type flippingWrites struct {
	host.File
	at int64
}

func (f flippingWrites) WriteAt(b []byte, off int64) (int, error) {
	if f.at >= off && f.at < off+int64(len(b)) {
		c := bytes.Clone(b)
		c[f.at-off] ^= 0x40
		return f.File.WriteAt(c, off)
	}
	return f.File.WriteAt(b, off)
}

type hostFile = host.File

var errNoSpace = syscall.ENOSPC

// failingHeaders fails every write to a manifest's header slots, as a
// crash between its sums and its header would leave it.
type failingHeaders struct{ host.File }

func (f failingHeaders) WriteAt(b []byte, off int64) (int, error) {
	if off < sumsOffset {
		return 0, syscall.EIO
	}
	return f.File.WriteAt(b, off)
}
