package blocks

import "context"

// writer is the goroutine that writes a pass's batches, in the order they
// come: a batch's journal records are synced before its writes start.
// Another goroutine starts the writeback of what it wrote (WriteBack can
// block while the device is busy, and the writer should not).
type writer struct {
	jobs    chan *batch
	free    chan *batch
	done    chan struct{}
	written chan Extent
	err     error
}

// startWriter starts the writer of a pass; a failure cancels ctx with
// its error.
func (c *copier) startWriter(ctx context.Context, cancel context.CancelCauseFunc) *writer {
	if c.batches == nil {
		// One batch filled while the other is written.
		c.batches = make(chan *batch, 2)
		for range cap(c.batches) {
			b := new(batch)
			if c.journaled {
				// What one batch holds at most: batchSize and the block
				// that crossed it, and their records.
				b.data = c.buffer(int(batchSize + c.bs))[:0]
				b.recs = c.buffer(int(batchSize + c.bs + batchSize/8))[:0]
			}
			c.batches <- b
		}
	}
	w := &writer{jobs: make(chan *batch, cap(c.batches)), free: c.batches, done: make(chan struct{}),
		written: make(chan Extent, 64)}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for e := range w.written {
			// Whatever else was written meanwhile goes with it.
			lo, hi := e.Off, e.end()
			for more := true; more; {
				select {
				case e, ok := <-w.written:
					if !ok {
						more = false
						break
					}
					lo, hi = min(lo, e.Off), max(hi, e.end())
				default:
					more = false
				}
			}
			c.f.WriteBack(lo, hi-lo)
		}
	}()
	go func() {
		defer close(w.done)
		defer func() {
			close(w.written)
			<-wrote
		}()
		for b := range w.jobs {
			if w.err == nil {
				var span Extent
				if span, w.err = c.write(ctx, b); w.err != nil {
					cancel(w.err)
				} else if span.Len > 0 {
					select {
					case w.written <- span:
					default: // writeback is behind: the final sync does it
					}
				}
			}
			if b.chunk != nil {
				c.chunks <- b.chunk
			}
			b.reset()
			w.free <- b
		}
	}()
	return w
}

// batch returns an empty batch to fill.
func (w *writer) batch() *batch { return <-w.free }

// close waits for the batches sent so far and returns the first error.
func (w *writer) close() error {
	close(w.jobs)
	<-w.done
	return w.err
}

// op is one write (or hole) of a batch.
type op struct {
	off, n int64
	zero   bool
	data   []byte
}

// blockSum is the new sum of a block, recorded once the batch is written.
type blockSum struct {
	i   int64
	sum Sum
}

// batch is what the writer writes in one go: undo records to sync first,
// then writes, merged where they touch.
type batch struct {
	recs  []byte
	ops   []op
	data  []byte // the bytes of ops copied out of the source's chunks
	sums  []blockSum
	chunk *chunk // the chunk ops point into, given back once written
	size  int64
}

// add queues data for off; copied says it is to be copied into the batch
// (else it stays where it is until the batch is written).
func (b *batch) add(off int64, data []byte, zero, copied bool) {
	n := int64(len(data))
	b.size += n
	if !zero && copied {
		start := len(b.data)
		b.data = append(b.data, data...)
		data = b.data[start:]
	}
	if k := len(b.ops); k > 0 {
		last := &b.ops[k-1]
		if last.off+last.n == off && last.zero == zero {
			if zero {
				last.n += n
				return
			}
			if adjacent(last.data, data) {
				last.data = last.data[:len(last.data)+len(data)]
				last.n += n
				return
			}
		}
	}
	o := op{off: off, n: n, zero: zero}
	if !zero {
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

func (b *batch) reset() {
	b.recs, b.ops, b.data, b.sums, b.chunk, b.size = b.recs[:0], b.ops[:0], b.data[:0], b.sums[:0], nil, 0
}
