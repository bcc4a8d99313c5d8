package blocks

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-dr/drover/host"
)

// chunk is a run of blocks read in one go, with the sum of each block.
type chunk struct {
	first int64  // the first block
	buf   []byte // the bytes read, zeroed outside the extents
	sums  []Sum  // the zero Sum for a block wholly outside the extents
	err   error
	// old holds what the target held of the blocks marked in hasOld, read
	// by the reader before the chunk was handed over (so before anything
	// of this pass wrote them): a journaled copy from a source hashed on
	// its machine reads them there, in parallel, instead of one after the
	// other in the goroutine that saves them.
	old    []byte
	hasOld []bool
}

// oldBlock returns what the target held of the chunk's k-th block; nil
// when it was not read.
func (ch *chunk) oldBlock(k int, bs int64) []byte {
	if ch.hasOld == nil || !ch.hasOld[k] {
		return nil
	}
	return ch.old[int64(k)*bs : min(int64(k+1)*bs, int64(len(ch.buf)))]
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
	n := 2*c.readers() + 2
	mem := c.buffer(int(n) * int(per*c.bs))
	c.chunks = make(chan *chunk, n)
	for k := range int64(n) {
		c.chunks <- &chunk{buf: mem[k*per*c.bs : (k+1)*per*c.bs : (k+1)*per*c.bs], sums: make([]Sum, per)}
	}
	return c.chunks
}

// input is what hashRanges reads: r, every byte of it read and hashed
// here; or, with on set (the file r reads, on its host), sums the machine
// of that host computes (the op blocks.sums), r being read only for the
// bytes of the blocks whose sum differs from what the target holds
// (c.sums), when bytes.
type input struct {
	r     io.ReaderAt
	on    *HostPath
	bytes bool
	drop  bool // the machine reads from the medium, not its page cache
	// m, when set, is r mapped: its blocks are hashed where they lie in
	// the page cache, and a chunk's buf is not filled (the caller wants
	// sums only).
	m *mapping
}

// segmentSize bounds the source bytes and the blocks of one op call: its
// answer (16 bytes a block) stays small, and the readers here start on
// the first segment while the machine hashes the next.
const (
	segmentSize   = 256 << 20
	segmentBlocks = 1 << 16
)

// segment is the chunks whose sums one op call fetches: the blocks
// ranges, their sums one after the other.
type segment struct {
	ranges []blockRange
	ready  chan struct{} // closed once sums or err is set
	sums   []Sum
	err    error
}

// sumsOf returns the sums of the blocks [first, ...) in s, first being in
// one of its ranges.
func (s *segment) sumsOf(first int64) []Sum {
	k := sort.Search(len(s.ranges), func(k int) bool { return s.ranges[k].end > first })
	at := first - s.ranges[k].first
	for _, r := range s.ranges[:k] {
		at += r.end - r.first
	}
	return s.sums[at:]
}

// segments splits the chunks of ranges (starts[k] being the first chunk
// of ranges[k], per blocks each) into segments of n chunks: chunk i is in
// segment i/n.
func segments(ranges []blockRange, starts []int64, per, n int64) []segment {
	total := starts[len(ranges)]
	var segs []segment
	k := 0
	for a := int64(0); a < total; a += n {
		b := min(a+n, total)
		s := segment{ready: make(chan struct{})}
		for ; k < len(ranges) && starts[k] < b; k++ {
			rg := ranges[k]
			first := rg.first + (max(a, starts[k])-starts[k])*per
			end := min(rg.first+(min(b, starts[k+1])-starts[k])*per, rg.end)
			s.ranges = append(s.ranges, blockRange{first, end})
			if starts[k+1] > b {
				// The range goes on in the next segment.
				break
			}
		}
		segs = append(segs, s)
	}
	return segs
}

// remoteReaders is how many readers fetch the changed blocks of a source
// hashed on its machine: each read waits for a round trip of the
// transport more than for a CPU.
const remoteReaders = 8

// readers is how many readers a pass of the copy may run.
func (c *copier) readers() int {
	if c.srcOn != nil {
		return max(c.workers, remoteReaders)
	}
	return c.workers
}

// hashRanges reads the blocks of ranges from in in chunks of whole blocks,
// with one reader goroutine per CPU that hashes each chunk where it read
// it, while the bytes are still in its cache. pick, called by the reader
// (so concurrently, and only reading what others write), says whether
// fn wants the chunk; fn then gets it in the calling goroutine, in no
// particular order, and returns keep to hold it after the call (it gives
// it back to c.chunks itself). A reader keeps reading into the same
// chunk until it hands one over: most chunks of an incremental copy never
// leave their reader. Of a chunk hashed on the source's machine only the
// blocks read have their bytes in the chunk; the others keep the sums of
// what the target holds, and fn skips them. hashRanges returns how many
// bytes it read through in.r.
func (c *copier) hashRanges(ctx context.Context, in input, ranges []blockRange, phase string, pass int,
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
	var segs []segment
	perSeg := max(min(segmentSize/bs, segmentBlocks)/per, 1) // chunks
	if in.on != nil {
		segs = segments(ranges, starts, per, perSeg)
		fetched := c.fetchSums(ctx, in, segs)
		defer fetched.Wait()
	} else if s, ok := in.r.(interface{ Sequential() error }); ok {
		// Best effort: twice the readahead when the bytes are not cached.
		s.Sequential()
	}

	var next, done, read atomic.Int64
	picked := make(chan *chunk, cap(pool))
	var readers sync.WaitGroup
	n := c.workers
	if in.on != nil && in.bytes {
		n = c.readers()
	}
	for range n {
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
			var w window
			if in.m != nil {
				// A source that shrinks faults when its mapping is read.
				defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
				w.m = in.m
				defer w.close()
			}
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				k := sort.Search(len(ranges), func(k int) bool { return starts[k+1] > i })
				if k == len(ranges) {
					return
				}
				first := ranges[k].first + (i-starts[k])*per
				rg := blockRange{first, min(first+per, ranges[k].end)}
				if in.m != nil {
					pieces = c.fillMapped(ch, &w, rg, pieces)
					read.Add(int64(len(ch.buf)))
				} else if in.on == nil {
					pieces = c.fill(ch, in.r, rg, pieces)
					read.Add(int64(len(ch.buf)))
				} else {
					s := &segs[i/perSeg]
					select {
					case <-s.ready:
					case <-ctx.Done():
						return
					}
					var n int64
					pieces, n = c.fillFrom(ch, in, rg, s, pieces)
					read.Add(n)
				}
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
					return read.Load(), err
				}
				report()
				return read.Load(), nil
			}
			if ch.err != nil {
				pool <- ch
				return read.Load(), ch.err
			}
			keep, err := fn(ch)
			if !keep {
				pool <- ch
			}
			if err != nil {
				return read.Load(), err
			}
		case <-tick.C:
			report()
		}
	}
}

// sumFetchers is how many op calls are under way at once: one hashes on
// the machine while the answer of the other crosses the transport.
const sumFetchers = 2

// fetchSums has the machine of in.on hash segs, in order, ahead of the
// readers; the returned group ends when every segment is ready. Each
// answer must come from the same file, the one in.r reads where that can
// be told.
func (c *copier) fetchSums(ctx context.Context, in input, segs []segment) *sync.WaitGroup {
	var want struct {
		sync.Mutex
		id    Identity
		known bool
	}
	if st, ok := in.r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil {
			if id := FileIdentity(fi, 0); id.Inode != 0 || id.Device != "" {
				want.id, want.known = id, true
			}
		}
	}
	same := func(got Identity) error {
		want.Lock()
		defer want.Unlock()
		if !want.known {
			want.id, want.known = got, true
			return nil
		}
		if got.Dev != want.id.Dev || got.Inode != want.id.Inode || got.Device != want.id.Device {
			return fmt.Errorf("%s on host %q was replaced by another file while it was copied; copy again", in.on.Path, in.on.Host.Name())
		}
		return nil
	}
	req := SumsRequest{Path: in.on.Path, Size: c.opts.Size, BlockSize: c.bs, DropCache: in.drop}
	if !c.whole {
		req.Extents = c.extents
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(sumFetchers, len(segs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(segs)) {
					return
				}
				s := &segs[i]
				req := req
				req.Blocks = make([]BlockRange, len(s.ranges))
				var n int64
				for k, r := range s.ranges {
					req.Blocks[k] = BlockRange{r.first, r.end}
					n += r.end - r.first
				}
				resp, err := host.Call[SumsRequest, SumsResponse](ctx, in.on.Host, SumsOp, req)
				switch {
				case err != nil:
					s.err = fmt.Errorf("hashing %s on host %q: %w", in.on.Path, in.on.Host.Name(), err)
				case int64(len(resp.Sums)) != 16*n:
					s.err = fmt.Errorf("hashing %s on host %q: %d bytes of sums for %d blocks", in.on.Path, in.on.Host.Name(), len(resp.Sums), n)
				default:
					s.err = same(resp.Identity)
					s.sums = make([]Sum, n)
					copy(sumBytes(s.sums), resp.Sums)
				}
				close(s.ready)
			}
		}()
	}
	return &wg
}

// fill reads the blocks rg into ch and hashes them; pieces is scratch
// space, returned for reuse.
func (c *copier) fill(ch *chunk, r io.ReaderAt, rg blockRange, pieces []Extent) []Extent {
	off := c.take(ch, rg)
	got, err := r.ReadAt(ch.buf, off)
	if err == io.EOF && got == len(ch.buf) {
		err = nil
	}
	if err != nil {
		ch.err = err
		return pieces
	}
	for k := range ch.sums {
		pieces = c.hash(ch, k, pieces)
	}
	return pieces
}

// fillMapped hashes the blocks rg where w maps them, leaving ch.buf
// unfilled but for blocks partly outside the extents, which are copied
// there to be masked.
func (c *copier) fillMapped(ch *chunk, w *window, rg blockRange, pieces []Extent) []Extent {
	defer faulted(&ch.err)
	off := c.take(ch, rg)
	b, err := w.view(off, int64(len(ch.buf)))
	if err != nil {
		ch.err = err
		return pieces
	}
	for k := range ch.sums {
		pieces = c.hashFrom(ch, k, b[int64(k)*c.bs:min(int64(k+1)*c.bs, int64(len(b)))], pieces)
	}
	return pieces
}

// fillFrom gives ch the sums of rg that the machine computed (segment s)
// and, when in.bytes, reads through in.r the blocks whose sum differs from
// what the target holds, hashing what it read: that is what the target
// gets, whatever the machine saw. It returns pieces and how many bytes it
// read.
func (c *copier) fillFrom(ch *chunk, in input, rg blockRange, s *segment, pieces []Extent) ([]Extent, int64) {
	off := c.take(ch, rg)
	if s.err != nil {
		ch.err = s.err
		return pieces, 0
	}
	copy(ch.sums, s.sumsOf(rg.first))
	if !in.bytes {
		return pieces, 0
	}
	stale := func(k int) bool {
		return ch.sums[k].Known() && ch.sums[k] != c.sums[ch.first+int64(k)]
	}
	var n int64
	for k := 0; k < len(ch.sums); {
		if !stale(k) {
			k++
			continue
		}
		// Neighbours in one read: a round trip each costs more than bytes.
		end := k + 1
		for end < len(ch.sums) && stale(end) {
			end++
		}
		from, to := int64(k)*c.bs, min(int64(end)*c.bs, int64(len(ch.buf)))
		got, err := in.r.ReadAt(ch.buf[from:to], off+from)
		if err == io.EOF && int64(got) == to-from {
			err = nil
		}
		if err != nil {
			ch.err = err
			return pieces, n
		}
		n += to - from
		for q := k; q < end; q++ {
			pieces = c.hash(ch, q, pieces)
		}
		if c.journaled {
			if err := c.readOld(ch, k, end, from, to); err != nil {
				ch.err = err
				return pieces, n
			}
		}
		k = end
	}
	return pieces, n
}

// readOld reads what the target holds of the chunk's blocks [k, end),
// the bytes [from, to) of the chunk.
func (c *copier) readOld(ch *chunk, k, end int, from, to int64) error {
	if ch.old == nil {
		ch.old = make([]byte, cap(ch.buf))
		ch.hasOld = make([]bool, cap(ch.sums))
	}
	off := ch.first * c.bs
	got, err := c.f.ReadAt(ch.old[from:to], off+from)
	if err != nil && !(err == io.EOF && int64(got) == to-from) {
		return fmt.Errorf("reading %s before overwriting it: %w", c.t.Path, err)
	}
	for q := k; q < end; q++ {
		ch.hasOld[q] = true
	}
	return nil
}

// take makes ch the chunk of the blocks rg and returns its offset.
func (c *copier) take(ch *chunk, rg blockRange) int64 {
	off := rg.first * c.bs
	n := min(rg.end*c.bs, c.opts.Size) - off
	ch.first, ch.buf, ch.sums, ch.err = rg.first, ch.buf[:n], ch.sums[:rg.end-rg.first], nil
	clear(ch.hasOld)
	return off
}

// hash sets the sum of the chunk's k-th block from its bytes, zeroing
// those outside the extents; pieces is scratch space, returned for reuse.
func (c *copier) hash(ch *chunk, k int, pieces []Extent) []Extent {
	return c.hashFrom(ch, k, ch.block(k, c.bs), pieces)
}

// hashFrom sets the sum of the chunk's k-th block from b, its bytes in
// the chunk or elsewhere: a block partly outside the extents is copied
// into the chunk to be masked there.
func (c *copier) hashFrom(ch *chunk, k int, b []byte, pieces []Extent) []Extent {
	if !c.whole {
		start := (ch.first + int64(k)) * c.bs
		pieces = clip(pieces[:0], c.extents, start, start+int64(len(b)))
		if len(pieces) == 0 {
			ch.sums[k] = Sum{}
			return pieces
		}
		if !covers(b, start, pieces) {
			own := ch.block(k, c.bs)
			copy(own, b)
			b = own
			mask(b, start, pieces)
		}
	}
	ch.sums[k] = HashBlock(b)
	return pieces
}

// covers says whether pieces are all of the block b (at start).
func covers(b []byte, start int64, pieces []Extent) bool {
	return len(pieces) == 1 && pieces[0].Off == start && pieces[0].Len == int64(len(b))
}

// mask zeroes the bytes of the block b (at start) outside pieces.
func mask(b []byte, start int64, pieces []Extent) {
	if covers(b, start, pieces) {
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
