package blocks

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

// Changes is what a copy of the source would write now.
type Changes struct {
	// Status is the target's status before the copy.
	Status Status
	// Full: there is no trusted manifest; every selected block would be
	// written. Reason says why.
	Full   bool
	Reason string
	// Rehash: the manifest has another block size; the copy hashes the
	// target first and the counts below are not known.
	Rehash bool
	Blocks int64
	Bytes  int64
	// Read is false when the source was not read (a full copy needs no
	// comparison).
	Read bool
}

// Scan reads the source once (or has its machine hash it: Options.Source)
// and counts the blocks that differ from what the target's manifest says
// it holds, without writing anything.
func Scan(ctx context.Context, src io.ReaderAt, t Target, opts Options) (*Changes, error) {
	c, err := newScanner(opts)
	if err != nil {
		return nil, err
	}
	defer c.release()
	st, err := t.inspect(ctx, true)
	if err != nil {
		return nil, err
	}
	ch := &Changes{Status: st}
	m := st.Manifest
	switch {
	case !st.Trusted && st.Why != "":
		ch.Full, ch.Reason = true, st.Why
	case m == nil:
		ch.Full, ch.Reason = true, "the target holds no earlier copy"
	case m.State == Tainted:
		ch.Full, ch.Reason = true, "the last copy failed its verify"
	case m.BlockSize != c.bs:
		ch.Rehash = true
		ch.Reason = fmt.Sprintf("the block size changes from %d to %d bytes", m.BlockSize, c.bs)
		return ch, nil
	}
	if ch.Full {
		for _, e := range c.extents {
			ch.Bytes += e.Len
		}
		for _, r := range c.ranges {
			ch.Blocks += r.end - r.first
		}
		return ch, nil
	}
	sums := rebase(m, opts.Size, c.extents)
	on, err := onMachine(ctx, opts.Source)
	if err != nil {
		return nil, err
	}
	ch.Read = true
	differs := func(k *chunk) bool {
		for j, sum := range k.sums {
			if sum.Known() && sum != sums[k.first+int64(j)] {
				return true
			}
		}
		return false
	}
	_, err = c.hashRanges(ctx, input{r: src, on: on}, c.ranges, "scan", 1, differs, func(k *chunk) (bool, error) {
		for j, sum := range k.sums {
			i := k.first + int64(j)
			if !sum.Known() || sum == sums[i] {
				continue
			}
			ch.Blocks++
			for _, p := range clip(nil, c.extents, i*c.bs, min((i+1)*c.bs, opts.Size)) {
				ch.Bytes += p.Len
			}
		}
		return false, nil
	})
	return ch, err
}

// newScanner is a copier that only reads.
func newScanner(opts Options) (*copier, error) {
	c := &copier{opts: opts, bs: opts.BlockSize, res: &Result{}}
	if c.bs == 0 {
		c.bs = DefaultBlockSize
	}
	if c.bs < 512 || c.bs > 64<<20 || c.bs%512 != 0 {
		return nil, fmt.Errorf("block size %d is not a multiple of 512 between 512 bytes and 64 MiB", c.bs)
	}
	c.piece = pieceSize
	if c.bs%pieceSize != 0 {
		c.piece = 512
	}
	c.extents = whole(opts.Size)
	if opts.Extents != nil {
		ext, err := Normalize(opts.Extents, opts.Size)
		if err != nil {
			return nil, err
		}
		c.extents = ext
	}
	c.whole = len(c.extents) == 1 && c.extents[0] == Extent{0, opts.Size}
	c.ranges = blockRanges(c.extents, c.bs)
	c.workers = runtime.GOMAXPROCS(0)
	return c, nil
}
