package mirror

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
)

// copyChunk is how much a copy moves between checks of its context: one
// io.CopyN, within which a copy between two agents' machines reads and
// writes its pieces at once (agent.File.ReadFrom), so that a larger chunk
// drains that pipeline less often.
const copyChunk = 16 << 20

// limitedChunk is the chunk, and the burst, of a bandwidth-limited copy:
// small enough to keep it smooth.
const limitedChunk = 256 << 10

// attempts is how often a file that changes while it is copied is copied
// again before it is left for the next run.
const attempts = 3

// errChanged says a source file changed while it was being copied.
var errChanged = errors.New("changed while being copied; the next run mirrors it")

// chunkEntries is how many entries of one folder a worker takes at once.
const chunkEntries = 64

// bigEntry is the data from which a file is a chunk of its own.
const bigEntry = 1 << 20

// folder is one folder of both sides, confined to it, so that each
// operation on its entries resolves a single name.
type folder struct {
	src, dst host.Host
}

func (r *pairRun) openFolder(dir string) (folder, func(), error) {
	if dir == "" {
		return folder{r.p.src, r.dst}, func() {}, nil
	}
	src, err := r.p.src.Sub(r.ctx, hostPath(dir))
	if err != nil {
		return folder{}, nil, err
	}
	dst, err := r.dst.Sub(r.ctx, hostPath(dir))
	if err != nil {
		src.Close()
		return folder{}, nil, err
	}
	return folder{src, dst}, func() { src.Close(); dst.Close() }, nil
}

// entries copies files and links in parallel, a chunk of one folder's
// entries per worker at a time. A file of a chunk's worth of data or more
// is a chunk of its own, and the largest chunks go first: a long copy
// overlaps the many small ones instead of trailing after them.
func (r *pairRun) entries(cs []*Change) error {
	type chunk struct {
		dir   string
		cs    []*Change
		bytes int64
	}
	var chunks []chunk
	open := map[string]int{} // a folder's chunk being filled
	for _, c := range cs {
		d := parent(c.Path)
		if c.Bytes() >= bigEntry {
			chunks = append(chunks, chunk{d, []*Change{c}, c.Bytes()})
			continue
		}
		i, ok := open[d]
		if !ok || len(chunks[i].cs) == chunkEntries {
			i = len(chunks)
			open[d] = i
			chunks = append(chunks, chunk{dir: d})
		}
		chunks[i].cs = append(chunks[i].cs, c)
		chunks[i].bytes += c.Bytes()
	}
	slices.SortStableFunc(chunks, func(a, b chunk) int { return cmp.Compare(b.bytes, a.bytes) })
	work := make(chan chunk)
	var wg sync.WaitGroup
	for range r.m.opts.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range work {
				r.chunk(ch.dir, ch.cs)
			}
		}()
	}
	for _, ch := range chunks {
		if r.ctx.Err() != nil {
			break
		}
		work <- ch
	}
	close(work)
	wg.Wait()
	return r.ctx.Err()
}

func (r *pairRun) chunk(dir string, cs []*Change) {
	if r.underFailed(cs[0].Path) {
		return
	}
	var batch []*Change
	if r.batches {
		rest := cs[:0:0]
		for _, c := range cs {
			if r.batched(c) {
				batch = append(batch, c)
			} else {
				rest = append(rest, c)
			}
		}
		r.copyBatches(dir, batch)
		if cs = rest; len(cs) == 0 {
			return
		}
	}
	f, closeFolder, err := r.openFolder(dir)
	if err != nil {
		for _, c := range cs {
			if errors.Is(err, fs.ErrNotExist) {
				r.retry(r.i, c.Path, err)
			} else if r.ctx.Err() == nil {
				r.fail(r.i, c.Path, err)
			}
		}
		return
	}
	defer closeFolder()
	for _, c := range cs {
		if r.ctx.Err() != nil {
			return
		}
		r.entry(f, c)
	}
}

// entry applies one file or symlink change: metadata in place, or a new
// content written to a temp file renamed over the old one.
func (r *pairRun) entry(f folder, c *Change) {
	path := "/" + pathBase(c.Path)
	r.current.Store(&c.Path)
	switch {
	case c.Kind == KindSymlink && (c.Op == OpAdd || c.Reason&(ReasonLink|ReasonType) != 0):
		r.symlink(f, c)
	case c.Kind == KindFile && c.Content:
		var err error
		if r.byBlocks(c) {
			err = r.updateBlocks(f, c)
		} else {
			var tmp string
			var m *blocks.Manifest
			tmp, m, err = r.copyFile(f, c)
			if err == nil {
				err = replace(r.ctx, f.dst, tmp, path, r.replacesBlocks(c))
			}
			if err == nil && m != nil {
				side := sidecars(path)
				err = restamp(r.ctx, blocks.Target{Host: f.dst, Path: path, Manifest: side[0], Journal: side[1]}, m)
			}
		}
		r.settle(c, err)
	default:
		if err := r.setMetadata(f.dst, path, c.Src, c.Dst, true); err != nil {
			r.fail(r.i, c.Path, err)
			return
		}
		r.done(c)
	}
}

// settle records how a file's copy ended: done, left for the next run (it
// changed or vanished meanwhile), or failed.
func (r *pairRun) settle(c *Change, err error) {
	switch {
	case err == nil:
		r.done(c)
	case errors.Is(err, errChanged) || errors.Is(err, fs.ErrNotExist):
		r.retry(r.i, c.Path, err)
	case r.ctx.Err() == nil:
		r.fail(r.i, c.Path, err)
	}
}

// replacesBlocks says whether the target file c replaces may have block
// records beside it.
func (r *pairRun) replacesBlocks(c *Change) bool {
	return r.m.opts.BlockThreshold > 0 && c.Dst != nil && c.Dst.Size >= r.m.opts.BlockThreshold
}

// replace renames the temp file tmp, whole and with its metadata set, over
// path in dst, or removes it. With records, the block records of the file
// replaced go too: they would describe (and roll back) another file.
func replace(ctx context.Context, dst host.Host, tmp, path string, records bool) error {
	if err := dst.Rename(ctx, tmp, path); err != nil {
		dst.Remove(context.WithoutCancel(ctx), tmp)
		return err
	}
	if records {
		for _, side := range sidecars(path) {
			dst.Remove(ctx, side)
		}
	}
	return nil
}

// symlink replaces the target entry by a link made under the temp name.
func (r *pairRun) symlink(f folder, c *Change) {
	path := "/" + pathBase(c.Path)
	tmp := host.TempPath(path)
	err := f.dst.Symlink(r.ctx, c.Src.Link, tmp)
	if err == nil {
		err = r.setMetadata(f.dst, tmp, c.Src, nil, false)
	}
	if err == nil {
		err = f.dst.Rename(r.ctx, tmp, path)
	}
	if err != nil {
		f.dst.Remove(context.WithoutCancel(r.ctx), tmp)
		r.fail(r.i, c.Path, err)
		return
	}
	r.done(c)
}

// copyFile writes the source file's current content and metadata to a
// temp file of the target, and returns its path. A file that changes
// during the copy is copied again; the metadata recorded is what the
// source had before the copy that held. A large file's copy also returns
// the manifest of its blocks (recordsBlocks), for the caller to record
// once the temp file is the replica.
func (r *pairRun) copyFile(f folder, c *Change) (string, *blocks.Manifest, error) {
	path := "/" + pathBase(c.Path)
	for range attempts {
		fi, err := f.src.Lstat(r.ctx, path)
		if err != nil {
			return "", nil, err
		}
		before := entryOf(fi)
		if before.Kind() != KindFile {
			return "", nil, fmt.Errorf("became a %s: %w", before.Kind(), errChanged)
		}
		tmp, sums, err := r.copyData(f, path, before, r.recordsBlocks(c, before))
		if err != nil {
			return "", nil, err
		}
		fi, err = f.src.Lstat(r.ctx, path)
		if err == nil {
			if after := entryOf(fi); after.Size != before.Size || after.MTime != before.MTime || after.Kind() != KindFile {
				f.dst.Remove(context.WithoutCancel(r.ctx), tmp)
				continue
			}
			err = r.setMetadata(f.dst, tmp, before, c.Dst, false)
		}
		if err != nil {
			f.dst.Remove(context.WithoutCancel(r.ctx), tmp)
			return "", nil, err
		}
		var m *blocks.Manifest
		if sums != nil {
			m = &blocks.Manifest{Generation: 1, State: blocks.Complete, BlockSize: blocks.DefaultBlockSize,
				Size: before.Size, CopiedAt: time.Now().UTC(), Sums: sums}
		}
		return tmp, m, nil
	}
	return "", nil, errChanged
}

// recordsBlocks says whether the whole copy of c, whose source is s,
// records the sums of its blocks as they stream past: a file that may be
// updated in place by its changed blocks (byBlocks) then has a manifest
// from the first, and its first update writes only what changed, not the
// whole file again to learn the sums.
func (r *pairRun) recordsBlocks(c *Change, s *Entry) bool {
	t := r.m.opts.BlockThreshold
	return t > 0 && s.Size >= t && !s.sparse() && sidecarsFit(c.Path)
}

// copyData fills a new temp file of path with the source's data, and
// returns its path: holes of a sparse file stay holes. With record, it
// also returns the sums of the blocks copied, and the temp file's data is
// durable before it returns: a manifest recorded later vouches for it,
// and must never outlive it in a crash.
func (r *pairRun) copyData(f folder, path string, s *Entry, record bool) (tmp string, sums []blocks.Sum, err error) {
	in, err := f.src.Open(r.ctx, path)
	if err != nil {
		return "", nil, err
	}
	defer in.Close()
	out, tmp, err := f.dst.CreateTemp(r.ctx, path)
	if err != nil {
		return "", nil, err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			f.dst.Remove(context.WithoutCancel(r.ctx), tmp)
			tmp, sums = "", nil
		}
	}()
	switch {
	case s.sparse():
		return tmp, nil, r.copySparse(in, out)
	case record:
		sr := &sumReader{r: in, partial: make([]byte, 0, blocks.DefaultBlockSize)}
		if err := r.copyWhole(in, out, s.Size, sr); err != nil {
			return tmp, nil, err
		}
		if sr.read != s.Size {
			// It shrank meanwhile: the look after the copy sees it, and
			// the sums would describe another size.
			return tmp, nil, nil
		}
		return tmp, sr.sums(), out.Sync()
	}
	return tmp, nil, r.copyWhole(in, out, s.Size, nil)
}

// copyWhole copies the size bytes of in to out: raw where either file
// streams (host.StreamFile: open in the agent of an SSH host), else with
// their calls (copyPlain). With sums, the bytes are hashed as they pass.
func (r *pairRun) copyWhole(in io.Reader, out host.File, size int64, sums *sumReader) error {
	if size >= bigEntry {
		if used, err := r.relay(in, out, size, sums); used {
			return err
		}
	}
	if sums != nil {
		return r.copyPlain(sums, out, size)
	}
	return r.copyPlain(in, out, size)
}

// relayBuffer is what a relay moves at once.
const relayBuffer = 1 << 20

// relayed counts the bytes copied between raw streams, for the tests.
var relayed atomic.Int64

// relay copies as copyPlain does where either file streams
// (host.StreamFile), each byte passing here once with one buffer, not
// through the calls of a file's protocol: read from one machine's channel
// and written to the other's, or between a channel and a file of this
// machine. used is false when nothing streams (no agent, an sshd that
// refuses the channel, data the calls carry compressed), nothing copied
// yet. A cancelled copy closes the streams, which ends it on the
// machines; the caller removes the temp file.
func (r *pairRun) relay(in io.Reader, out host.File, size int64, sums *sumReader) (used bool, err error) {
	src, srcStreams := in.(host.StreamFile)
	dst, dstStreams := out.(host.StreamFile)
	if !srcStreams && !dstStreams {
		return false, nil
	}
	// Whole buffers: a channel's reads end at its packets, and the sums
	// hash whole blocks where the buffer holds them. A buffer is at most
	// a bandwidth limit's burst.
	buf := make([]byte, min(relayBuffer, r.chunkSize()))
	rs, ws := in, io.Writer(out)
	if srcStreams {
		s, err := src.ReadStream(r.ctx, 0, size)
		if err != nil {
			return !errors.Is(err, errors.ErrUnsupported), err
		}
		defer s.Close()
		rs = s
	} else if ra, ok := in.(io.ReaderAt); ok {
		// Data of this machine's that compresses crosses smaller through
		// the calls.
		n, _ := ra.ReadAt(buf, 0)
		if dst.Compresses(buf[:n]) {
			return false, nil
		}
	}
	var stream io.WriteCloser
	if dstStreams {
		if stream, err = dst.WriteStream(r.ctx, 0, size); err != nil {
			return !errors.Is(err, errors.ErrUnsupported), err
		}
		ws = stream
	}
	for left := size; left > 0; {
		if err = r.ctx.Err(); err != nil {
			break
		}
		n, rerr := io.ReadFull(rs, buf[:min(int64(len(buf)), left)])
		if sums != nil {
			sums.add(buf[:n])
		}
		if n > 0 {
			_, err = ws.Write(buf[:n])
		}
		left -= int64(n)
		r.bytes.Add(int64(n))
		relayed.Add(int64(n))
		if err == nil {
			err = r.pace(int64(n))
		}
		if err == nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			err = rerr
		}
		if err != nil || rerr != nil {
			// Short: the source shrank, which the look after the copy
			// sees.
			break
		}
	}
	if stream != nil {
		if cerr := stream.Close(); err == nil {
			err = cerr
		}
	}
	return true, err
}

// sumReader reads r and hashes it by blocks of blocks.DefaultBlockSize.
type sumReader struct {
	r    io.Reader
	read int64
	// partial is the start of a block that the reads so far ended in.
	partial []byte
	done    []blocks.Sum
}

func (s *sumReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.add(p[:n])
	return n, err
}

// add hashes b, the bytes read next.
func (s *sumReader) add(b []byte) {
	s.read += int64(len(b))
	if len(s.partial) > 0 {
		k := min(len(b), blocks.DefaultBlockSize-len(s.partial))
		s.partial = append(s.partial, b[:k]...)
		b = b[k:]
		if len(s.partial) < blocks.DefaultBlockSize {
			return
		}
		s.done = append(s.done, blocks.HashBlock(s.partial))
		s.partial = s.partial[:0]
	}
	// Whole blocks are hashed where the read put them.
	for ; len(b) >= blocks.DefaultBlockSize; b = b[blocks.DefaultBlockSize:] {
		s.done = append(s.done, blocks.HashBlock(b[:blocks.DefaultBlockSize]))
	}
	s.partial = append(s.partial, b...)
}

// sums are the sums of all that was read: the last block may be short.
func (s *sumReader) sums() []blocks.Sum {
	if len(s.partial) > 0 {
		s.done = append(s.done, blocks.HashBlock(s.partial))
		s.partial = s.partial[:0]
	}
	return s.done
}

// pace waits, under a bandwidth limit, until n more bytes may have been
// sent; n is at most one chunk.
func (r *pairRun) pace(n int64) error {
	if r.m.limiter == nil || n == 0 {
		return nil
	}
	return r.m.limiter.WaitN(r.ctx, int(n))
}

func (r *pairRun) chunkSize() int64 {
	if r.m.limiter != nil {
		return int64(r.m.limiter.Burst())
	}
	return copyChunk
}

// copyPlain copies the size bytes the source had before the copy: if it
// grows or shrinks meanwhile, the look at it after the copy sees it.
func (r *pairRun) copyPlain(in io.Reader, out host.File, size int64) error {
	n := r.chunkSize()
	for size > 0 {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		// CopyN lets a file-to-file copy use the kernel's copy_file_range.
		copied, err := io.CopyN(out, in, min(n, size))
		size -= copied
		r.bytes.Add(copied)
		if werr := r.pace(copied); werr != nil {
			return werr
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// copySparse writes only the blocks that hold data, then sets the size.
func (r *pairRun) copySparse(in io.Reader, out host.File) error {
	block := min(64<<10, r.chunkSize())
	buf := make([]byte, block)
	zero := make([]byte, block)
	var off int64
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(in, buf)
		if werr := r.pace(int64(n)); werr != nil {
			return werr
		}
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, werr := out.WriteAt(buf[:n], off); werr != nil {
				return werr
			}
		}
		off += int64(n)
		r.bytes.Add(int64(n))
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return out.Truncate(off)
}

// byBlocks says whether a file is updated in place by changed blocks. A
// difference found by reading both sides is not: the target then differs
// from what its manifest says, and only a whole copy repairs it.
func (r *pairRun) byBlocks(c *Change) bool {
	t := r.m.opts.BlockThreshold
	return t > 0 && c.Src.Size >= t && c.Dst != nil && c.Dst.Kind() == KindFile && c.Dst.Size == c.Src.Size &&
		c.Reason&ReasonContent == 0 && sidecarsFit(c.Path)
}

// sidecarsFit says whether the names of the block records of the file at
// path are not too long for a file system.
func sidecarsFit(path string) bool {
	return len(pathBase(path))+1+len(journalSuffix) <= 255
}

// sidecars are the block manifest and undo journal of the file at path.
func sidecars(path string) [2]string {
	dir, name := path[:strings.LastIndexByte(path, '/')+1], pathBase(path)
	return [2]string{dir + "." + name + manifestSuffix, dir + "." + name + journalSuffix}
}

// sourceReader is what a large file's copy reads its source through:
// tests change the source there, between chunks, as a writer racing the
// copy does.
var sourceReader = func(rel string, r io.ReaderAt) io.ReaderAt { return r }

// updateBlocks writes, in place, the blocks of a large file that differ
// from what its manifest says the target holds, through the shared block
// engine: an update interrupted at any point is rolled back by the next
// one, and so is one during which the source changed, so that the replica
// is always a whole version of its source. A replica without a trusted
// manifest has nothing journaled to roll back to: every block is then
// written to the temp file, renamed over the replica once whole. A source
// that keeps changing while it is read is left for the next run.
func (r *pairRun) updateBlocks(f folder, c *Change) error {
	path := "/" + pathBase(c.Path)
	side := sidecars(path)
	t := blocks.Target{Host: f.dst, Path: path, Manifest: side[0], Journal: side[1]}
	if _, err := t.Recover(r.ctx); err != nil {
		return err
	}
	st, err := t.Inspect(r.ctx)
	if err != nil {
		return err
	}
	inPlace := st.Trusted && st.Manifest != nil && st.Manifest.State == blocks.Complete
	// A fresh copy's temp file gets its name from CreateTemp, into.Path.
	into := t
	for range attempts {
		fi, err := f.src.Lstat(r.ctx, path)
		if err != nil {
			return err
		}
		before := entryOf(fi)
		if before.Kind() != KindFile || before.Size != c.Dst.Size {
			return fmt.Errorf("its size changed: %w", errChanged)
		}
		res, err := r.copyBlocks(f, path, c.Path, &into, before, !inPlace)
		if errors.Is(err, errChanged) {
			continue
		}
		if err != nil {
			if inPlace {
				// Stopped partway (cancelled, or a read or write failed):
				// rolled back now, not by the next run, which may never
				// come (a source gone for good is when the replica is
				// needed); so the rollback outlives the cancelled context.
				err = errors.Join(err, putBack(context.WithoutCancel(r.ctx), t))
			}
			return err
		}
		r.bytes.Add(before.Size)
		if err := r.setMetadata(f.dst, into.Path, before, c.Dst, false); err != nil {
			return err
		}
		if !inPlace {
			if err := f.dst.Rename(r.ctx, into.Path, path); err != nil {
				return err
			}
		}
		return restamp(r.ctx, t, res.Manifest)
	}
	if inPlace {
		if err := putBack(r.ctx, t); err != nil {
			return err
		}
	}
	return errChanged
}

// putBack rolls back an update in place of the replica t, unless the
// block engine already did: the replica is then the version it held,
// with the time it had (blocks.Target.Recover).
func putBack(ctx context.Context, t blocks.Target) error {
	if _, err := t.Recover(ctx); err != nil {
		return fmt.Errorf("rolling back the update of %s: %w", t.Path, err)
	}
	return nil
}

// copyBlocks copies the source file at path (rel in the pair) into the
// block target into, which, with fresh, is a new temp file made for it
// (into.Path becomes its name);
// errChanged when the source changed while it was read (into is then
// rolled back, or the temp file removed). The temp file stays on success.
func (r *pairRun) copyBlocks(f folder, path, rel string, into *blocks.Target, before *Entry, fresh bool) (res *blocks.Result, err error) {
	if fresh {
		var tmp host.File
		if tmp, into.Path, err = f.dst.CreateTemp(r.ctx, path); err != nil {
			return nil, err
		}
		err = tmp.Truncate(before.Size)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		defer func() {
			if err != nil {
				f.dst.Remove(context.WithoutCancel(r.ctx), into.Path)
			}
		}()
		if err != nil {
			return nil, err
		}
	}
	in, err := f.src.OpenFile(r.ctx, path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	settled := func(ctx context.Context) error {
		fi, err := f.src.Lstat(ctx, path)
		if err != nil {
			return err
		}
		if after := entryOf(fi); after.Size != before.Size || after.MTime != before.MTime || after.Kind() != KindFile {
			return errChanged
		}
		return nil
	}
	// The source's machine hashes the file where it runs ops: only the
	// blocks that differ from the replica's manifest cross.
	return blocks.Copy(r.ctx, sourceReader(rel, in), *into, blocks.Options{Size: before.Size, Settled: settled,
		Source: &blocks.HostPath{Host: f.src, Path: path}})
}

// restamp records in the manifest m the file's identity after its
// metadata was set: the manifest stays trusted although the mirror, not
// the block copy, wrote the modification time last. It is not synced: the
// apply's final sync makes it durable, and if a crash comes first, the
// manifest found is the copy's own, whose identity no longer matches, and
// the next run copies the file whole.
func restamp(ctx context.Context, t blocks.Target, m *blocks.Manifest) error {
	fi, err := t.Host.Lstat(ctx, t.Path)
	if err != nil {
		return err
	}
	m.Identity = blocks.FileIdentity(fi, fi.Size())
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	f, tmp, err := t.Host.CreateTemp(ctx, t.Manifest)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = t.Host.Rename(ctx, tmp, t.Manifest)
	}
	if err != nil {
		t.Host.Remove(context.WithoutCancel(ctx), tmp)
	}
	return err
}
