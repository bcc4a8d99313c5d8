package blocks

import (
	"context"
	"io"
	"time"
)

// read reads the blocks of ranges from r, a chunk ahead of the caller, and
// calls fn for each block with its bytes and the pieces of it inside the
// extents (bytes outside them are zeroed, so a block's sum depends only on
// the selection), then endChunk after each chunk: fn's slices stay valid
// until then.
func (c *copier) read(ctx context.Context, r io.ReaderAt, ranges []blockRange, phase string, pass int,
	fn func(i int64, b []byte, pieces []Extent) error, endChunk func() error) error {
	bs, size := c.bs, c.opts.Size
	per := max(chunkSize/bs, 1)
	var total int64
	for _, rg := range ranges {
		total += min(rg.end*bs, size) - rg.first*bs
	}
	type chunk struct {
		first int64
		buf   []byte
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan []byte, 3)
	for range cap(free) {
		free <- make([]byte, per*bs)
	}
	full := make(chan chunk, cap(free))
	go func() {
		defer close(full)
		for _, rg := range ranges {
			for first := rg.first; first < rg.end; first += per {
				off := first * bs
				n := min(min(first+per, rg.end)*bs, size) - off
				var buf []byte
				select {
				case buf = <-free:
				case <-ctx.Done():
					return
				}
				got, err := r.ReadAt(buf[:n], off)
				if err == io.EOF && int64(got) == n {
					err = nil
				}
				select {
				case full <- chunk{first, buf[:n], err}:
				case <-ctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}
	}()
	defer func() {
		cancel()
		for range full {
		}
	}()

	var done int64
	last := time.Now()
	report := func(force bool) {
		if c.opts.Progress == nil || !force && time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		c.opts.Progress(Progress{Phase: phase, Pass: pass, Done: done, Total: total})
	}
	for ch := range full {
		if ch.err != nil {
			return ch.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		for k := int64(0); k*bs < int64(len(ch.buf)); k++ {
			b := ch.buf[k*bs : min((k+1)*bs, int64(len(ch.buf)))]
			start := (ch.first + k) * bs
			pieces := clip(c.extents, start, start+int64(len(b)))
			if len(pieces) == 0 {
				continue
			}
			mask(b, start, pieces)
			if err := fn(ch.first+k, b, pieces); err != nil {
				return err
			}
		}
		if endChunk != nil {
			if err := endChunk(); err != nil {
				return err
			}
		}
		done += int64(len(ch.buf))
		if phase == "copy" {
			c.res.BytesRead += int64(len(ch.buf))
		}
		free <- ch.buf[:cap(ch.buf)]
		report(false)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	report(true)
	return nil
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

// op is one write (or hole) of a batch.
type op struct {
	off, n int64
	zero   bool
	data   []byte // the bytes, when they stay in the caller's buffer
	at     int    // else where they are in batch.buf
}

// batch gathers the writes of changed blocks, merging neighbours.
type batch struct {
	ops  []op
	buf  []byte
	size int64
}

// add queues data for off; keep copies it (the caller's buffer will be
// reused before the batch is written).
func (b *batch) add(off int64, data []byte, zero, keep bool) {
	n := int64(len(data))
	b.size += n
	if k := len(b.ops); k > 0 {
		last := &b.ops[k-1]
		if last.off+last.n == off && last.zero == zero {
			switch {
			case zero:
				last.n += n
				return
			case keep:
				b.buf = append(b.buf, data...)
				last.n += n
				return
			case adjacent(last.data, data):
				last.data = last.data[:len(last.data)+len(data)]
				last.n += n
				return
			}
		}
	}
	o := op{off: off, n: n, zero: zero, at: -1}
	switch {
	case zero:
	case keep:
		o.at = len(b.buf)
		b.buf = append(b.buf, data...)
	default:
		o.data = data
	}
	b.ops = append(b.ops, o)
}

// adjacent says whether b directly follows a in the same array.
func adjacent(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 || cap(a)-len(a) < len(b) {
		return false
	}
	return &a[:len(a)+1][len(a)] == &b[0]
}

func (b *batch) bytes(o op) []byte {
	if o.at >= 0 {
		return b.buf[o.at : o.at+int(o.n)]
	}
	return o.data
}

func (b *batch) reset() {
	b.ops, b.buf, b.size = b.ops[:0], b.buf[:0], 0
}
