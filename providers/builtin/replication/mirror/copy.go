package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/drover-dr/drover/host"
)

// chunkSize is how much a copy moves between checks of its context.
const chunkSize = 4 << 20

// limitedChunk is the chunk, and the burst, of a bandwidth-limited copy:
// small enough to keep it smooth.
const limitedChunk = 256 << 10

// attempts is how often a file that changes while it is copied is copied
// again before it is left for the next run.
const attempts = 3

// errChanged says a source file changed while it was being copied.
var errChanged = errors.New("changed while being copied; the next run mirrors it")

// ready is a temp file complete with its metadata, waiting for its rename.
type ready struct {
	c    *Change
	size int64
}

// entries copies files and links in parallel; a committer renames the
// finished temp files in batches, after one sync of the target each.
func (r *pairRun) entries(cs []*Change) error {
	work := make(chan *Change)
	done := make(chan ready)
	var wg sync.WaitGroup
	for range r.m.opts.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				if rd, ok := r.entry(c); ok {
					done <- rd
				}
			}
		}()
	}
	committed := make(chan error, 1)
	go func() { committed <- r.commit(done) }()
	for _, c := range cs {
		if r.ctx.Err() != nil {
			break
		}
		work <- c
	}
	close(work)
	wg.Wait()
	close(done)
	if err := <-committed; err != nil {
		return err
	}
	return r.ctx.Err()
}

// commit renames ready temp files over their targets in batches. Once the
// context ends, the temp files not yet renamed are removed.
func (r *pairRun) commit(in <-chan ready) error {
	var batch []ready
	var size int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		defer func() { batch, size = batch[:0], 0 }()
		if r.ctx.Err() == nil {
			if err := r.dst.Sync(r.ctx, "/"); err != nil && r.ctx.Err() == nil {
				for _, rd := range batch {
					r.fail(r.i, rd.c.Path, err)
				}
			} else if err == nil {
				for _, rd := range batch {
					path := hostPath(rd.c.Path)
					if err := r.dst.Rename(r.ctx, host.TempPath(path), path); err != nil {
						if r.ctx.Err() != nil {
							break
						}
						r.fail(r.i, rd.c.Path, err)
						continue
					}
					r.done(rd.c)
				}
			}
		}
		// Whatever was not renamed goes.
		for _, rd := range batch {
			r.dst.Remove(context.WithoutCancel(r.ctx), host.TempPath(hostPath(rd.c.Path)))
		}
		return nil
	}
	for rd := range in {
		batch = append(batch, rd)
		size += rd.size
		if len(batch) >= batchFiles || size >= batchBytes {
			flush()
		}
	}
	return flush()
}

// entry applies one file or symlink change: metadata in place, or a new
// content in a temp file that the committer renames (ok true).
func (r *pairRun) entry(c *Change) (ready, bool) {
	if r.underFailed(c.Path) {
		return ready{}, false
	}
	path := hostPath(c.Path)
	r.current.Store(&c.Path)
	switch {
	case c.Kind == KindSymlink && (c.Op == OpAdd || c.Reason&(ReasonLink|ReasonType) != 0):
		r.symlink(c)
	case c.Kind == KindFile && c.Content:
		size, err := r.copyFile(c)
		switch {
		case errors.Is(err, errChanged) || errors.Is(err, fs.ErrNotExist):
			r.retry(r.i, c.Path, err)
		case err != nil:
			if r.ctx.Err() == nil {
				r.fail(r.i, c.Path, err)
			}
		default:
			return ready{c: c, size: size}, true
		}
	default:
		if err := r.setMetadata(path, c.Src, c.Dst); err != nil {
			r.fail(r.i, c.Path, err)
			return ready{}, false
		}
		r.done(c)
	}
	return ready{}, false
}

// symlink replaces the target entry by a link made under the temp name.
func (r *pairRun) symlink(c *Change) {
	path := hostPath(c.Path)
	tmp := host.TempPath(path)
	err := r.dst.Remove(r.ctx, tmp)
	if err == nil {
		err = r.dst.Symlink(r.ctx, c.Src.Link, tmp)
	}
	if err == nil {
		err = r.setMetadata(tmp, c.Src, nil)
	}
	if err == nil {
		err = r.dst.Rename(r.ctx, tmp, path)
	}
	if err != nil {
		r.dst.Remove(context.WithoutCancel(r.ctx), tmp)
		r.fail(r.i, c.Path, err)
		return
	}
	r.done(c)
}

// copyFile writes the source file's current content and metadata to the
// target's temp file. A file that changes during the copy is copied again;
// the metadata recorded is what the source had before the copy that held.
func (r *pairRun) copyFile(c *Change) (int64, error) {
	path := hostPath(c.Path)
	tmp := host.TempPath(path)
	for range attempts {
		fi, err := r.p.src.Lstat(r.ctx, path)
		if err != nil {
			return 0, err
		}
		before := entryOf(fi)
		if before.Kind != KindFile {
			return 0, fmt.Errorf("became a %s: %w", before.Kind, errChanged)
		}
		if err := r.copyData(path, before, c.Dst); err != nil {
			r.dst.Remove(context.WithoutCancel(r.ctx), tmp)
			return 0, err
		}
		fi, err = r.p.src.Lstat(r.ctx, path)
		if err != nil {
			r.dst.Remove(context.WithoutCancel(r.ctx), tmp)
			return 0, err
		}
		if after := entryOf(fi); after.Size != before.Size || after.MTime != before.MTime || after.Kind != KindFile {
			continue
		}
		if err := r.setMetadata(tmp, before, c.Dst); err != nil {
			r.dst.Remove(context.WithoutCancel(r.ctx), tmp)
			return 0, err
		}
		return before.Size, nil
	}
	r.dst.Remove(context.WithoutCancel(r.ctx), tmp)
	return 0, errChanged
}

// copyData fills the temp file of path with the source's data: holes of a
// sparse file stay holes.
func (r *pairRun) copyData(path string, s, d *Entry) (err error) {
	in, err := r.p.src.Open(r.ctx, path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := r.dst.CreateTemp(r.ctx, path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if s.sparse() {
		return r.copySparse(in, out)
	}
	return r.copyPlain(in, out)
}

// pace waits, under a bandwidth limit, until n more bytes may have been
// sent; n is at most one chunk.
func (r *pairRun) pace(n int64) error {
	if r.m.limiter == nil || n == 0 {
		return nil
	}
	return r.m.limiter.WaitN(r.ctx, int(n))
}

func (r *pairRun) chunk() int64 {
	if r.m.limiter != nil {
		return int64(r.m.limiter.Burst())
	}
	return chunkSize
}

func (r *pairRun) copyPlain(in io.Reader, out host.File) error {
	n := r.chunk()
	for {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		// CopyN lets a file-to-file copy use the kernel's copy_file_range.
		copied, err := io.CopyN(out, in, n)
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
}

// copySparse writes only the blocks that hold data, then sets the size.
func (r *pairRun) copySparse(in io.Reader, out host.File) error {
	block := min(64<<10, r.chunk())
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
