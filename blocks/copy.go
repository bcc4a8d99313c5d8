package blocks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/plural"
)

// DefaultBlockSize is the block size of change detection, chosen with
// BenchmarkCopyIncremental: hashing costs the same from 4 KiB up, the
// manifest holds 16 bytes per 64 KiB (256 MiB per TB, in memory during a
// copy), and what a copy writes does not depend on it: a changed block is
// compared with what the target holds, and only the pieces of pieceSize
// that differ are saved and written.
const DefaultBlockSize = 64 << 10

// pieceSize is the unit of what a copy writes in a changed block (4 KiB:
// the page and file system block; 512 bytes for block sizes that are not
// a multiple of it).
const pieceSize = 4 << 10

// chunkSize is how much of the source one read fetches: small enough that
// the bytes are still in the CPU's cache when they are hashed.
const chunkSize = 512 << 10

// batchSize bounds the changed data gathered before its undo records are
// synced and it is written: one journal sync per batch. The buffers of a
// copy are made once and reused: memory touched for the first time costs
// a page fault per page, which dwarfs the copy itself on virtual
// machines with shadowed page tables.
const batchSize = 4 << 20

// DefaultCheckpoint is how much a first copy writes between checkpoints
// when Options.Checkpoint is 0.
const DefaultCheckpoint = 1 << 30

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
	// Labels are kept in the new manifest for the caller.
	Labels map[string]string
	// Checkpoint is how much a first copy (or any full copy) writes
	// between the manifest's checkpoints: what an interrupted one copies
	// again. DefaultCheckpoint when 0.
	Checkpoint int64
	// Settled, when set, is called after the last pass, before the new
	// generation is recorded: its error (the source changed while it was
	// read, say) is returned, after a journaled copy was rolled back to
	// the generation the target held. A full copy, which journals nothing,
	// is left as its last checkpoint recorded.
	Settled func(ctx context.Context) error
	// Source names the file or block device src reads, on its host: where
	// that host's machine runs ops (host.CanCall), it hashes the blocks
	// (the op blocks.sums) and only those whose sum differs from what the
	// target holds are read through src; elsewhere every byte is read
	// through src and hashed here. The target's machine likewise hashes
	// what a verify (or a change of block size) reads back.
	Source *HostPath
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
	Quiet bool
	// BlocksChanged counts the blocks whose sum changed; BytesChanged the
	// bytes written to the target (of a changed block, the pieces that
	// differed; of a full copy, all of them).
	BlocksChanged int64
	BytesChanged  int64
	// BytesRead counts the bytes read through src: all of the selection
	// where they are hashed here, only the changed blocks where the
	// source's machine hashes them.
	BytesRead int64
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
	piece   int64 // the unit of writes within a changed block
	extents []Extent
	whole   bool // extents are all of the source
	ranges  []blockRange
	workers int
	chunks  chan *chunk
	batches chan *batch
	buffers []func() // give back what buffer handed out
	f       host.File
	src     io.ReaderAt
	// srcOn and targetOn are where the source's and the target's blocks
	// are hashed on their machine; nil where they are read through the
	// transport and hashed here.
	srcOn, targetOn *HostPath

	res        *Result
	prior      *Manifest
	generation int64
	// sums is what the target holds: during a pass the writer sets a
	// block's entry once its bytes are written, so that a checkpoint
	// records only what is on the target.
	sums    []Sum
	changed bitset // blocks whose sum this copy changed
	// journaled: the target holds a complete generation, every byte
	// overwritten is saved in the undo journal first.
	journaled bool
	// inPlace: the manifest file has the shape of the new one and is
	// updated in place (its old sums saved in the journal too).
	inPlace    bool
	jr         *journal
	holes      bool // zero ranges of the target may become holes
	sinceCheck int64
	old        []byte // the target's bytes of a changed block
	pieces     []Extent
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
	if c.srcOn, err = onMachine(ctx, opts.Source); err != nil {
		return nil, err
	}
	if c.targetOn, err = onMachine(ctx, &HostPath{Host: t.Host, Path: t.Path}); err != nil {
		return nil, err
	}
	f, err := t.Host.OpenFile(ctx, t.Path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	c.f = f
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	c.holes = fi.Mode().IsRegular()
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

func (c *copier) checkpointEvery() int64 {
	if c.opts.Checkpoint > 0 {
		return c.opts.Checkpoint
	}
	return DefaultCheckpoint
}

func (c *copier) close() {
	if c.jr != nil {
		c.jr.close()
	}
	c.f.Close()
	c.release()
}

// buffer returns n bytes that live until release.
func (c *copier) buffer(n int) []byte {
	b, free := bigBuffer(n)
	c.buffers = append(c.buffers, free)
	return b
}

// release gives back the buffers: nothing may use them after.
func (c *copier) release() {
	for _, free := range c.buffers {
		free()
	}
	c.buffers = nil
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
// bytes must be saved before they are overwritten.
func (c *copier) plan(ctx context.Context) error {
	st, err := c.t.inspect(ctx, true)
	if err != nil {
		return err
	}
	n := blockCount(c.opts.Size, c.bs)
	m := st.Manifest
	c.prior = m
	switch {
	case !st.Trusted && st.Why != "":
		c.res.Full, c.res.Reason = true, st.Why
	case m == nil:
		c.res.Full, c.res.Reason = true, "the target holds no earlier copy"
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
		c.journaled = true
		hdr := journalHeader{From: m.Generation, To: c.generation, Target: c.t.Path}
		if c.jr, err = openJournal(ctx, c.t, hdr); err != nil {
			return fmt.Errorf("opening the undo journal %s: %w", c.t.Journal, err)
		}
	}
	if m.BlockSize != c.bs {
		c.sums, err = c.hashTarget(ctx)
		return err
	}
	c.sums = rebase(m, c.opts.Size, c.extents)
	c.inPlace = c.journaled && m.slot >= 0 && m.Size == c.opts.Size && slices.Equal(m.extents(), c.extents)
	return nil
}

// rebase returns m's sums for a copy of size bytes in extents: a sum stays
// known where the block covers the same bytes in both. When all stay,
// they are m's own.
func rebase(m *Manifest, size int64, extents []Extent) []Sum {
	bs := m.BlockSize
	old := m.extents()
	if size == m.Size && slices.Equal(old, extents) {
		return m.Sums
	}
	n := blockCount(size, bs)
	out := make([]Sum, n)
	for i := int64(0); i < n && i < int64(len(m.Sums)); i++ {
		start, end := i*bs, min((i+1)*bs, size)
		if end != min((i+1)*bs, m.Size) {
			continue
		}
		if slices.Equal(clip(nil, old, start, end), clip(nil, extents, start, end)) {
			out[i] = m.Sums[i]
		}
	}
	return out
}

// hashTarget computes the sums of what the target holds, for a manifest
// of another block size.
func (c *copier) hashTarget(ctx context.Context) ([]Sum, error) {
	sums := make([]Sum, blockCount(c.opts.Size, c.bs))
	_, err := c.hashRanges(ctx, input{r: c.f, on: c.targetOn}, c.ranges, "hash target", 0, func(ch *chunk) bool {
		copy(sums[ch.first:], ch.sums)
		return false
	}, nil)
	return sums, err
}

func (c *copier) run(ctx context.Context) (*Result, error) {
	if err := c.plan(ctx); err != nil {
		return nil, err
	}
	c.changed = newBitset(int64(len(c.sums)))
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
	if c.opts.Settled != nil {
		if err := c.opts.Settled(ctx); err != nil {
			return nil, c.abandon(ctx, err)
		}
	}
	return c.finish(ctx)
}

// abandon gives up a copy for the reason why: a journaled one is rolled
// back as if interrupted, its journal left open for Recover.
func (c *copier) abandon(ctx context.Context, why error) error {
	if c.jr == nil {
		return why
	}
	c.jr.close()
	c.jr = nil
	if _, err := c.t.Recover(ctx); err != nil {
		return errors.Join(why, fmt.Errorf("rolling back the copy of %s: %w", c.t.Path, err))
	}
	return why
}

// pass reads the source once and writes what differs from what the
// target holds; it returns how many blocks it found changed. The reading
// and hashing goroutines hand chunks to this one, which decides what to
// write and hands batches to a writer goroutine: the source is read while
// the journal is synced and the target written.
func (c *copier) pass(ctx context.Context, pass int) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := c.startWriter(ctx, cancel)
	var found int64
	var b *batch
	pick := c.differs
	if c.journaled {
		pick = c.prefetch
	}
	in := input{r: c.src, bytes: true}
	if pass > 1 || !c.res.Full {
		// A first pass of a full copy reads every block whatever its sum.
		in.on = c.srcOn
	}
	read, err := c.hashRanges(ctx, in, c.ranges, "copy", pass, pick, func(ch *chunk) (bool, error) {
		if !c.journaled {
			// Nothing to save: the chunk is written from where it was read.
			b := w.batch()
			found += c.overwrite(b, ch)
			if len(b.sums) == 0 {
				w.free <- b
				return false, nil
			}
			b.chunk = ch
			w.jobs <- b
			return true, nil
		}
		for k, sum := range ch.sums {
			i := ch.first + int64(k)
			if sum == c.sums[i] || !sum.Known() {
				continue
			}
			found++
			if b == nil {
				b = w.batch()
			}
			if err := c.update(b, i, ch.block(k, c.bs), ch.oldBlock(k, c.bs), sum); err != nil {
				return false, err
			}
			if b.size >= batchSize {
				w.jobs <- b
				b = nil
			}
		}
		return false, nil
	})
	c.res.BytesRead += read
	switch {
	case b != nil && err == nil:
		w.jobs <- b
	case b != nil:
		b.reset()
		w.free <- b
	}
	if werr := w.close(); werr != nil {
		err = werr
	}
	return found, err
}

// prefetch is differs that also starts reading the target's bytes of the
// changed blocks, which the writer needs: by the time their chunk's turn
// comes they are read, wherever they were.
func (c *copier) prefetch(ch *chunk) bool {
	found := false
	for k, sum := range ch.sums {
		if sum.Known() && sum != c.sums[ch.first+int64(k)] {
			if ch.oldBlock(k, c.bs) == nil {
				c.f.Prefetch((ch.first+int64(k))*c.bs, int64(len(ch.block(k, c.bs))))
			}
			found = true
		}
	}
	return found
}

// differs says whether a block of the chunk differs from what the target
// holds. Readers call it while the writer records what it wrote: never
// for the same block, which is not written before its chunk is handed
// over.
func (c *copier) differs(ch *chunk) bool {
	for k, sum := range ch.sums {
		if sum.Known() && sum != c.sums[ch.first+int64(k)] {
			return true
		}
	}
	return false
}

// overwrite adds to b the writes of the chunk's blocks that differ from
// what the target holds, pointing into the chunk; it returns how many.
func (c *copier) overwrite(b *batch, ch *chunk) int64 {
	var n int64
	for k, sum := range ch.sums {
		i := ch.first + int64(k)
		if sum == c.sums[i] || !sum.Known() {
			continue
		}
		n++
		data := ch.block(k, c.bs)
		base := i * c.bs
		zero := sum == zeroSum(len(data)) && allZero(data)
		for _, p := range c.piecesOf(base, int64(len(data))) {
			b.add(p.Off, data[p.Off-base:p.end()-base], zero, false)
			c.res.BytesChanged += p.Len
		}
		c.mark(i)
		b.sums = append(b.sums, blockSum{i, sum})
	}
	return n
}

// update adds to b what it takes to make block i of the target hold data
// (whose sum is sum): the target's bytes are read (unless a reader read
// them already: old), and only the pieces that differ are saved in the
// journal and written.
func (c *copier) update(b *batch, i int64, data, old []byte, sum Sum) error {
	base, n := i*c.bs, int64(len(data))
	if old == nil {
		if c.old == nil {
			c.old = make([]byte, c.bs)
		}
		old = c.old[:n]
		if got, err := c.f.ReadAt(old, base); err != nil && !(err == io.EOF && int64(got) == n) {
			return fmt.Errorf("reading %s before overwriting it: %w", c.t.Path, err)
		}
	}
	zero := sum == zeroSum(len(data)) && allZero(data)
	emit := func(from, to int64) {
		b.recs = appendRecord(b.recs, c.jr.hdr.Nonce, ofTarget, from, old[from-base:to-base])
		b.add(from, data[from-base:to-base], zero, true)
		c.res.BytesChanged += to - from
	}
	for _, p := range c.piecesOf(base, n) {
		run := int64(-1)
		for q := p.Off; q < p.end(); {
			e := min((q/c.piece+1)*c.piece, p.end())
			same := bytes.Equal(data[q-base:e-base], old[q-base:e-base])
			switch {
			case !same && run < 0:
				run = q
			case same && run >= 0:
				emit(run, q)
				run = -1
			}
			q = e
		}
		if run >= 0 {
			emit(run, p.end())
		}
	}
	if c.inPlace && !c.changed.get(i) {
		// c.sums[i] is still what the manifest file holds: the writer
		// changes it once this batch is written.
		b.recs = appendRecord(b.recs, c.jr.hdr.Nonce, ofManifest, sumsOffset+16*i, c.sums[i][:])
	}
	c.mark(i)
	b.sums = append(b.sums, blockSum{i, sum})
	return nil
}

// mark counts block i as changed by this copy.
func (c *copier) mark(i int64) {
	if !c.changed.get(i) {
		c.changed.set(i)
		c.res.BlocksChanged++
	}
}

// piecesOf returns the parts of the n bytes at base inside the extents,
// in scratch space valid until the next call.
func (c *copier) piecesOf(base, n int64) []Extent {
	if c.whole {
		c.pieces = append(c.pieces[:0], Extent{base, n})
	} else {
		c.pieces = clip(c.pieces[:0], c.extents, base, base+n)
	}
	return c.pieces
}

// write saves the batch's old bytes in the journal (creating it first)
// and syncs it, then writes the batch; it runs in the writer goroutine
// and returns the span of the target it wrote.
func (c *copier) write(ctx context.Context, b *batch) (Extent, error) {
	if len(b.recs) > 0 {
		if err := c.jr.commit(ctx, c.t, b.recs); err != nil {
			return Extent{}, err
		}
	}
	lo, hi := int64(-1), int64(0)
	for _, o := range b.ops {
		if lo < 0 || o.off < lo {
			lo = o.off
		}
		hi = max(hi, o.off+o.n)
		if o.zero && c.holes {
			err := c.f.PunchHole(o.off, o.n)
			if err == nil {
				continue
			}
			if !errors.Is(err, errors.ErrUnsupported) {
				return Extent{}, fmt.Errorf("punching a hole in %s: %w", c.t.Path, err)
			}
			c.holes = false
		}
		if err := c.writeAt(o); err != nil {
			return Extent{}, fmt.Errorf("writing %s: %w", c.t.Path, err)
		}
	}
	for _, s := range b.sums {
		c.sums[s.i] = s.sum
	}
	span := Extent{max(lo, 0), hi - max(lo, 0)}
	if !c.journaled {
		c.sinceCheck += b.size
		if c.sinceCheck >= c.checkpointEvery() {
			c.sinceCheck = 0
			return span, c.checkpoint(ctx)
		}
	}
	return span, nil
}

func (c *copier) writeAt(o op) error {
	if !o.zero {
		_, err := c.f.WriteAt(o.data, o.off)
		return err
	}
	for at := o.off; at < o.off+o.n; {
		n := min(o.off+o.n-at, int64(len(zeros)))
		if _, err := c.f.WriteAt(zeros[:n], at); err != nil {
			return err
		}
		at += n
	}
	return nil
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
		Identity: id, CopiedAt: c.opts.Now().UTC(), Sums: c.sums, Labels: c.opts.Labels,
	}
	if !c.whole {
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
			verr = fmt.Errorf("%w: %s of %s read back differently from what was written", ErrVerify, plural.Count(int(bad), "block"), c.t.Path)
		}
	}
	m, err := c.manifest(state)
	if err != nil {
		return nil, err
	}
	if verr != nil {
		m.Note = verr.Error()
	}
	if c.inPlace {
		err = c.t.updateManifest(ctx, m, c.prior, c.changed.ranges())
	} else {
		err = c.t.SaveManifest(ctx, m)
	}
	if err != nil {
		return nil, fmt.Errorf("saving the manifest of %s: %w", c.t.Path, err)
	}
	if c.jr != nil {
		jr := c.jr
		c.jr = nil
		if err := jr.end(ctx, c.t); err != nil {
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
	if c.targetOn == nil {
		for _, r := range ranges {
			c.f.DropCache(r.first*c.bs, (r.end-r.first)*c.bs)
		}
	}
	var bad int64
	in := input{r: c.f, on: c.targetOn, drop: true}
	_, err := c.hashRanges(ctx, in, ranges, "verify", 0, c.differs, func(ch *chunk) (bool, error) {
		for k, sum := range ch.sums {
			if sum.Known() && sum != c.sums[ch.first+int64(k)] {
				bad++
			}
		}
		return false, nil
	})
	return bad, err
}
