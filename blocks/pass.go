package blocks

import (
	"context"
	"io"
	"sort"
	"sync"
	"sync/atomic"
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

// chunkPool returns the copier's chunks, made on first use: one for
// every reader to read into, and as many again handed over or waiting.
func (c *copier) chunkPool() chan *chunk {
	if c.chunks != nil {
		return c.chunks
	}
	per := max(chunkSize/c.bs, 1)
	n := 2*c.workers + 2
	mem := c.buffer(int(n) * int(per*c.bs))
	c.chunks = make(chan *chunk, n)
	for k := range int64(n) {
		c.chunks <- &chunk{buf: mem[k*per*c.bs : (k+1)*per*c.bs : (k+1)*per*c.bs], sums: make([]Sum, per)}
	}
	return c.chunks
}

// hashRanges reads the blocks of ranges from r in chunks of whole blocks,
// with one reader goroutine per CPU that hashes each chunk where it read
// it, while the bytes are still in its cache. pick, called by the reader
// (so concurrently, and only reading what others write), says whether
// fn wants the chunk; fn then gets it in the calling goroutine, in no
// particular order, and returns keep to hold it after the call (it gives
// it back to c.chunks itself). A reader keeps reading into the same
// chunk until it hands one over: most chunks of an incremental copy never
// leave their reader. hashRanges returns how many bytes it read.
func (c *copier) hashRanges(ctx context.Context, r io.ReaderAt, ranges []blockRange, phase string, pass int,
	pick func(ch *chunk) bool, fn func(ch *chunk) (keep bool, err error)) (int64, error) {
	bs := c.bs
	per := max(chunkSize/bs, 1)
	// starts[k] is the index of the first chunk of ranges[k].
	starts := make([]int64, len(ranges)+1)
	var total int64
	for k, rg := range ranges {
		starts[k+1] = starts[k] + (rg.end-rg.first+per-1)/per
		total += min(rg.end*bs, c.opts.Size) - rg.first*bs
	}
	pool := c.chunkPool()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if s, ok := r.(interface{ Sequential() error }); ok {
		// Best effort: twice the readahead when the bytes are not cached.
		s.Sequential()
	}

	var next, done atomic.Int64
	picked := make(chan *chunk, cap(pool))
	var readers sync.WaitGroup
	for range c.workers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var ch *chunk
			select {
			case ch = <-pool:
			case <-ctx.Done():
				return
			}
			defer func() {
				if ch != nil {
					pool <- ch
				}
			}()
			var pieces []Extent
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				k := sort.Search(len(ranges), func(k int) bool { return starts[k+1] > i })
				if k == len(ranges) {
					return
				}
				first := ranges[k].first + (i-starts[k])*per
				pieces = c.fill(ch, r, blockRange{first, min(first+per, ranges[k].end)}, pieces)
				if ch.err == nil {
					done.Add(int64(len(ch.buf)))
					if pick != nil && !pick(ch) {
						continue
					}
				}
				failed := ch.err != nil
				picked <- ch // no longer ours
				if failed {
					ch = nil
					return
				}
				select {
				case ch = <-pool:
				case <-ctx.Done():
					ch = nil
					return
				}
			}
		}()
	}
	go func() {
		readers.Wait()
		close(picked)
	}()
	defer func() {
		cancel()
		for ch := range picked {
			pool <- ch
		}
	}()

	report := func() {
		if c.opts.Progress != nil {
			c.opts.Progress(Progress{Phase: phase, Pass: pass, Done: done.Load(), Total: total})
		}
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case ch, ok := <-picked:
			if !ok {
				if err := ctx.Err(); err != nil {
					return done.Load(), err
				}
				report()
				return done.Load(), nil
			}
			if ch.err != nil {
				pool <- ch
				return done.Load(), ch.err
			}
			keep, err := fn(ch)
			if !keep {
				pool <- ch
			}
			if err != nil {
				return done.Load(), err
			}
		case <-tick.C:
			report()
		}
	}
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
