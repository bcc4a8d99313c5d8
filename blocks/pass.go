package blocks

import (
	"context"
	"io"
	"sync"
	"time"
)

// chunk is a run of blocks read in one go, with the sum of each block.
type chunk struct {
	first int64  // the first block
	buf   []byte // the bytes read, zeroed outside the extents
	sums  []Sum  // the zero Sum for a block wholly outside the extents
	err   error
}

// block returns the bytes of the chunk's k-th block.
func (ch *chunk) block(k int, bs int64) []byte {
	return ch.buf[int64(k)*bs : min(int64(k+1)*bs, int64(len(ch.buf)))]
}

// chunkPool returns the copier's chunks, made on first use: enough for
// every reader to have one in hand and one waiting, and a few held by the
// writer.
func (c *copier) chunkPool() chan *chunk {
	if c.chunks != nil {
		return c.chunks
	}
	per := max(chunkSize/c.bs, 1)
	n := 2*c.workers + 2
	c.chunks = make(chan *chunk, n)
	for range n {
		c.chunks <- &chunk{buf: make([]byte, per*c.bs), sums: make([]Sum, per)}
	}
	return c.chunks
}

// hashRanges reads the blocks of ranges from r, in chunks of whole blocks
// fetched by one reader per CPU, and hashes each block where it was read,
// while the data is still in the CPU's cache. fn receives each chunk in
// the calling goroutine, in no particular order; it returns keep to hold
// the chunk after the call, and then gives it back to c.chunks itself.
func (c *copier) hashRanges(ctx context.Context, r io.ReaderAt, ranges []blockRange, phase string, pass int,
	fn func(ch *chunk) (keep bool, err error)) error {
	bs := c.bs
	per := max(chunkSize/bs, 1)
	var total int64
	for _, rg := range ranges {
		total += min(rg.end*bs, c.opts.Size) - rg.first*bs
	}
	pool := c.chunkPool()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	todo := make(chan blockRange)
	go func() {
		defer close(todo)
		for _, rg := range ranges {
			for first := rg.first; first < rg.end; first += per {
				select {
				case todo <- blockRange{first, min(first+per, rg.end)}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	read := make(chan *chunk, cap(pool))
	var readers sync.WaitGroup
	for range c.workers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var pieces []Extent
			for rg := range todo {
				var ch *chunk
				select {
				case ch = <-pool:
				case <-ctx.Done():
					return
				}
				pieces = c.fill(ch, r, rg, pieces)
				read <- ch
				if ch.err != nil {
					return
				}
			}
		}()
	}
	go func() {
		readers.Wait()
		close(read)
	}()
	defer func() {
		cancel()
		for ch := range read {
			pool <- ch
		}
	}()

	var done int64
	last := time.Now()
	for ch := range read {
		if ch.err != nil {
			pool <- ch
			return ch.err
		}
		n := int64(len(ch.buf))
		keep, err := fn(ch)
		if !keep {
			pool <- ch
		}
		if err != nil {
			return err
		}
		done += n
		if c.opts.Progress != nil && time.Since(last) >= 100*time.Millisecond {
			last = time.Now()
			c.opts.Progress(Progress{Phase: phase, Pass: pass, Done: done, Total: total})
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.opts.Progress != nil {
		c.opts.Progress(Progress{Phase: phase, Pass: pass, Done: done, Total: total})
	}
	return nil
}

// fill reads the blocks rg into ch and hashes them; pieces is scratch
// space, returned for reuse.
func (c *copier) fill(ch *chunk, r io.ReaderAt, rg blockRange, pieces []Extent) []Extent {
	bs := c.bs
	off := rg.first * bs
	n := min(rg.end*bs, c.opts.Size) - off
	ch.first, ch.buf, ch.sums, ch.err = rg.first, ch.buf[:n], ch.sums[:rg.end-rg.first], nil
	got, err := r.ReadAt(ch.buf, off)
	if err == io.EOF && int64(got) == n {
		err = nil
	}
	if err != nil {
		ch.err = err
		return pieces
	}
	for k := range ch.sums {
		b := ch.block(k, bs)
		if !c.whole {
			start := off + int64(k)*bs
			pieces = clip(pieces[:0], c.extents, start, start+int64(len(b)))
			if len(pieces) == 0 {
				ch.sums[k] = Sum{}
				continue
			}
			mask(b, start, pieces)
		}
		ch.sums[k] = HashBlock(b)
	}
	return pieces
}

// mask zeroes the bytes of the block b (at start) outside pieces.
func mask(b []byte, start int64, pieces []Extent) {
	if len(pieces) == 1 && pieces[0].Off == start && pieces[0].Len == int64(len(b)) {
		return
	}
	at := start
	for _, p := range pieces {
		clear(b[at-start : p.Off-start])
		at = p.end()
	}
	clear(b[at-start:])
}

// bitset is a set of block numbers.
type bitset []uint64

func newBitset(n int64) bitset    { return make(bitset, (n+63)/64) }
func (s bitset) get(i int64) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s bitset) set(i int64)      { s[i/64] |= 1 << (i % 64) }

// ranges lists the runs of blocks in the set.
func (s bitset) ranges() []blockRange {
	var out []blockRange
	for w, word := range s {
		if word == 0 {
			continue
		}
		for bit := int64(0); bit < 64; bit++ {
			if word&(1<<bit) == 0 {
				continue
			}
			i := int64(w)*64 + bit
			if n := len(out); n > 0 && out[n-1].end == i {
				out[n-1].end++
			} else {
				out = append(out, blockRange{i, i + 1})
			}
		}
	}
	return out
}
