package blocks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/drover-dr/drover/host"
)

// DefaultBlockSize is the block size of change detection, chosen with
// BenchmarkCopyIncremental: scattered 64 KiB changes rewrite 1.25 times
// their size in 16 KiB blocks (2 times in 64 KiB, 16 in 1 MiB), hashing
// costs the same from 4 KiB up, and the manifest stays at 0.1% of the
// target (1 MiB of sums per GiB, held in memory during a copy).
const DefaultBlockSize = 16 << 10

// chunkSize is how much of the source one read fetches.
const chunkSize = 4 << 20

// batchSize bounds the changed data held before its undo records are
// synced and it is written: one journal sync per batch.
const batchSize = 64 << 20

// checkpointBytes is how much a first copy writes between checkpoints (a
// variable for tests).
var checkpointBytes int64 = 1 << 30

// Verify is how much of the target a copy reads back.
type Verify int

const (
	VerifyNone    Verify = iota
	VerifyWritten        // the blocks this copy wrote
	VerifyAll            // every block of the selection
)

// Options shape a copy or a scan.
type Options struct {
	// Size is the source's size in bytes; the target must be as large.
	Size int64
	// BlockSize of change detection; DefaultBlockSize when 0.
	BlockSize int64
	// Extents select what to copy (e.g. partitions and the partition
	// table); nil copies all of Size.
	Extents []Extent
	Verify  Verify
	// MaxPasses > 1 repeats the pass, each copying what changed during the
	// previous one, until a pass copies nothing or MaxPasses ran: a
	// consistent copy of a live source that has no snapshot.
	MaxPasses int
	// Freeze, when set, makes two passes: a live one, then Freeze is
	// called and a second pass reads a source nobody writes, copying what
	// changed during the first; the returned thaw is called when it ends.
	// MaxPasses is then ignored.
	Freeze func(ctx context.Context) (thaw func() error, err error)
	// Progress receives bytes read so far in each pass.
	Progress func(Progress)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Progress is how far a copy has got.
type Progress struct {
	Phase string // "copy", "verify", "hash target"
	Pass  int
	Done  int64
	Total int64
}

// Result says what a copy did.
type Result struct {
	// Manifest is the target's new manifest.
	Manifest *Manifest
	// Full: no trusted manifest, every block was written; Reason says why.
	Full   bool
	Reason string
	// Recovered is what Recover found before the copy; nil when nothing.
	Recovered *Recovery
	Passes    int
	// Quiet: the last pass found nothing left to copy.
	Quiet         bool
	BlocksChanged int64
	BytesChanged  int64
	BytesRead     int64
	// Frozen is how long the source stayed frozen.
	Frozen time.Duration
}

// ErrVerify is wrapped by the error of a copy whose verify found blocks
// that differ; the target's manifest is then marked Tainted.
var ErrVerify = errors.New("verify found differences")

// Copy makes t a copy of src. It first recovers an interrupted copy, then
// writes the blocks whose content differs from what t's manifest says it
// holds, saving their old content in the undo journal first when t held a
// complete generation; a target without a trusted manifest gets every
// block. On success t's manifest describes the new generation.
func Copy(ctx context.Context, src io.ReaderAt, t Target, opts Options) (*Result, error) {
	c, err := newCopier(ctx, t, opts)
	if err != nil {
		return nil, err
	}
	defer c.close()
	c.src = src
	return c.run(ctx)
}

type copier struct {
	t       Target
	opts    Options
	bs      int64
	extents []Extent
	ranges  []blockRange
	f       host.File
	src     io.ReaderAt

	res        *Result
	prior      *Manifest
	generation int64
	sums       []Sum  // what the target holds now
	changed    bitset // blocks written by this copy
	journaled  bitset
	jr         *journal
	noHoles    bool
	sinceCheck int64
}

// blockRange is the blocks [first, end) a selection touches.
type blockRange struct{ first, end int64 }

func newCopier(ctx context.Context, t Target, opts Options) (*copier, error) {
	c, err := newScanner(opts)
	if err != nil {
		return nil, err
	}
	c.t = t
	if c.opts.Now == nil {
		c.opts.Now = time.Now
	}
	if c.opts.MaxPasses < 1 {
		c.opts.MaxPasses = 1
	}
	rec, err := t.Recover(ctx)
	if err != nil {
		return nil, fmt.Errorf("recovering the interrupted copy of %s: %w", t.Path, err)
	}
	c.res.Recovered = rec
	f, err := t.Host.OpenFile(ctx, t.Path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	c.f = f
	id, err := t.identity(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if id.Size < opts.Size {
		f.Close()
		return nil, fmt.Errorf("the target %s (%d bytes) is smaller than the source (%d bytes)", t.Path, id.Size, opts.Size)
	}
	return c, nil
}

func (c *copier) close() {
	if c.jr != nil {
		c.jr.close()
	}
	c.f.Close()
}

// blockRanges lists the blocks the extents touch, merging neighbours.
func blockRanges(extents []Extent, bs int64) []blockRange {
	var out []blockRange
	for _, e := range extents {
		r := blockRange{e.Off / bs, (e.end() + bs - 1) / bs}
		if n := len(out); n > 0 && r.first <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, r.end)
			continue
		}
		out = append(out, r)
	}
	return out
}

// plan decides from the manifest what the target holds and whether its
// blocks must be saved before they are overwritten.
func (c *copier) plan(ctx context.Context) error {
	st, err := c.t.Inspect(ctx)
	if err != nil {
		return err
	}
	n := blockCount(c.opts.Size, c.bs)
	m := st.Manifest
	c.prior = m
	switch {
	case m == nil:
		c.res.Full, c.res.Reason = true, "the target holds no earlier copy"
	case !st.Trusted:
		c.res.Full, c.res.Reason = true, st.Why
	case m.State == Tainted:
		c.res.Full, c.res.Reason = true, "the last copy failed its verify"
	}
	if c.res.Full {
		// Whatever the old manifest said no longer holds from the first
		// write on.
		c.sums = make([]Sum, n)
		c.generation = 1
		if m != nil {
			c.generation = m.Generation + 1
		}
		return c.checkpoint(ctx)
	}
	c.generation = m.Generation
	if m.State == Complete {
		c.generation++
		hdr := journalHeader{From: m.Generation, To: c.generation, Target: c.t.Path}
		if c.jr, err = createJournal(ctx, c.t, hdr); err != nil {
			return fmt.Errorf("creating the undo journal %s: %w", c.t.Journal, err)
		}
	}
	if m.BlockSize != c.bs {
		c.sums, err = c.hashTarget(ctx)
		return err
	}
	c.sums = rebase(m, c.opts.Size, c.extents)
	return nil
}

// rebase returns m's sums for a copy of size bytes in extents: a sum stays
// known where the block covers the same bytes in both.
func rebase(m *Manifest, size int64, extents []Extent) []Sum {
	bs := m.BlockSize
	n := blockCount(size, bs)
	out := make([]Sum, n)
	old := m.extents()
	if size == m.Size && slices.Equal(old, extents) {
		copy(out, m.Sums)
		return out
	}
	for i := int64(0); i < n && i < int64(len(m.Sums)); i++ {
		start, end := i*bs, min((i+1)*bs, size)
		if end != min((i+1)*bs, m.Size) {
			continue
		}
		if slices.Equal(clip(old, start, end), clip(extents, start, end)) {
			out[i] = m.Sums[i]
		}
	}
	return out
}

// hashTarget computes the sums of what the target holds, for a manifest
// of another block size.
func (c *copier) hashTarget(ctx context.Context) ([]Sum, error) {
	sums := make([]Sum, blockCount(c.opts.Size, c.bs))
	err := c.read(ctx, c.f, c.ranges, "hash target", 0, func(i int64, b []byte, _ []Extent) error {
		sums[i] = HashBlock(b)
		return nil
	}, nil)
	return sums, err
}

func (c *copier) run(ctx context.Context) (*Result, error) {
	if err := c.plan(ctx); err != nil {
		return nil, err
	}
	c.changed = newBitset(int64(len(c.sums)))
	c.journaled = newBitset(int64(len(c.sums)))
	passes := c.opts.MaxPasses
	if c.opts.Freeze != nil {
		passes = 2
	}
	for pass := 1; pass <= passes; pass++ {
		frozen := c.opts.Freeze != nil && pass == passes
		var thaw func() error
		if frozen {
			var err error
			if thaw, err = c.opts.Freeze(ctx); err != nil {
				return nil, fmt.Errorf("freezing the source: %w", err)
			}
		}
		start := c.opts.Now()
		n, err := c.pass(ctx, pass)
		if thaw != nil {
			c.res.Frozen = c.opts.Now().Sub(start)
			if terr := thaw(); terr != nil && err == nil {
				err = fmt.Errorf("thawing the source: %w", terr)
			}
		}
		if err != nil {
			return nil, err
		}
		c.res.Passes = pass
		c.res.Quiet = n == 0
		// A live pass that found nothing still leaves the frozen one to do:
		// the source may have been in the middle of a write.
		if n == 0 && c.opts.Freeze == nil {
			break
		}
	}
	return c.finish(ctx)
}

// pass reads the source once and writes every block whose sum differs from
// what the target holds; it returns how many blocks it wrote.
func (c *copier) pass(ctx context.Context, pass int) (int64, error) {
	var wrote int64
	var b batch
	keep := c.jr != nil
	flush := func() error {
		err := c.flush(ctx, &b)
		b.reset()
		return err
	}
	err := c.read(ctx, c.src, c.ranges, "copy", pass, func(i int64, data []byte, pieces []Extent) error {
		sum := HashBlock(data)
		if sum == c.sums[i] {
			return nil
		}
		wrote++
		if !c.changed.get(i) {
			c.changed.set(i)
			c.res.BlocksChanged++
			for _, p := range pieces {
				c.res.BytesChanged += p.Len
			}
		}
		zero := !c.noHoles && sum == zeroSum(len(data)) && allZero(data)
		base := i * c.bs
		for _, p := range pieces {
			b.add(p.Off, data[p.Off-base:p.end()-base], zero, keep)
		}
		c.sums[i] = sum
		return nil
	}, func() error {
		if !keep || b.size >= batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return wrote, err
}

// flush saves the old content of the batch's blocks in the journal (when
// there is one) and syncs it, then writes the batch.
func (c *copier) flush(ctx context.Context, b *batch) error {
	if len(b.ops) == 0 {
		return nil
	}
	if c.jr != nil {
		if err := c.save(b); err != nil {
			return err
		}
	}
	for _, o := range b.ops {
		if o.zero {
			err := c.f.PunchHole(o.off, o.n)
			if err == nil {
				continue
			}
			if !errors.Is(err, errors.ErrUnsupported) {
				return fmt.Errorf("punching a hole in %s: %w", c.t.Path, err)
			}
			c.noHoles = true
		}
		data := b.bytes(o)
		if o.zero {
			data = make([]byte, o.n)
		}
		if _, err := c.f.WriteAt(data, o.off); err != nil {
			return fmt.Errorf("writing %s: %w", c.t.Path, err)
		}
	}
	if c.jr == nil {
		c.sinceCheck += b.size
		if c.sinceCheck >= checkpointBytes {
			c.sinceCheck = 0
			return c.checkpoint(ctx)
		}
	}
	return nil
}

// save appends to the journal the old content of every whole block the
// batch touches that this copy has not saved yet, and syncs it. Whole
// blocks: writing back bytes nobody changed is harmless.
func (c *copier) save(b *batch) error {
	var todo []blockRange
	for _, o := range b.ops {
		for j := o.off / c.bs; j <= (o.off+o.n-1)/c.bs; j++ {
			if c.journaled.get(j) {
				continue
			}
			c.journaled.set(j)
			if n := len(todo); n > 0 && todo[n-1].end == j {
				todo[n-1].end++
			} else {
				todo = append(todo, blockRange{j, j + 1})
			}
		}
	}
	var old []byte
	for _, r := range todo {
		off := r.first * c.bs
		n := min(r.end*c.bs, c.opts.Size) - off
		if int64(cap(old)) < n {
			old = make([]byte, n)
		}
		if _, err := c.f.ReadAt(old[:n], off); err != nil && err != io.EOF {
			return fmt.Errorf("reading %s before overwriting it: %w", c.t.Path, err)
		}
		c.jr.add(off, old[:n])
	}
	return c.jr.commit()
}

// checkpoint makes a first copy's progress durable: the next run skips
// what is already there.
func (c *copier) checkpoint(ctx context.Context) error {
	if err := c.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", c.t.Path, err)
	}
	m, err := c.manifest(Partial)
	if err != nil {
		return err
	}
	return c.t.SaveManifest(ctx, m)
}

func (c *copier) manifest(state State) (*Manifest, error) {
	id, err := c.t.identity(c.f)
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		Generation: c.generation, State: state, BlockSize: c.bs, Size: c.opts.Size,
		Identity: id, CopiedAt: c.opts.Now().UTC(), Sums: c.sums,
	}
	if len(c.extents) != 1 || c.extents[0] != (Extent{0, c.opts.Size}) {
		m.Extents = c.extents
	}
	return m, nil
}

func (c *copier) finish(ctx context.Context) (*Result, error) {
	if err := c.f.Sync(); err != nil {
		return nil, fmt.Errorf("syncing %s: %w", c.t.Path, err)
	}
	state := Complete
	var verr error
	if c.opts.Verify != VerifyNone {
		bad, err := c.verify(ctx)
		if err != nil {
			return nil, err
		}
		if bad > 0 {
			state = Tainted
			verr = fmt.Errorf("%w: %d blocks of %s read back differently from what was written", ErrVerify, bad, c.t.Path)
		}
	}
	m, err := c.manifest(state)
	if err != nil {
		return nil, err
	}
	if verr != nil {
		m.Note = verr.Error()
	}
	if err := c.t.SaveManifest(ctx, m); err != nil {
		return nil, fmt.Errorf("saving the manifest of %s: %w", c.t.Path, err)
	}
	if c.jr != nil {
		c.jr.close()
		c.jr = nil
		if err := c.t.Host.Remove(ctx, c.t.Journal); err != nil {
			return nil, err
		}
	}
	c.res.Manifest = m
	return c.res, verr
}

// verify reads back from the medium what the copy wrote (or every block)
// and counts the blocks whose sum differs.
func (c *copier) verify(ctx context.Context) (int64, error) {
	ranges := c.ranges
	if c.opts.Verify == VerifyWritten {
		ranges = c.changed.ranges()
	}
	for _, r := range ranges {
		c.f.DropCache(r.first*c.bs, (r.end-r.first)*c.bs)
	}
	var bad int64
	err := c.read(ctx, c.f, ranges, "verify", 0, func(i int64, b []byte, _ []Extent) error {
		if HashBlock(b) != c.sums[i] {
			bad++
		}
		return nil
	}, nil)
	return bad, err
}
