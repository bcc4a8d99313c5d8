package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/drover-dr/drover/host"
	agentv1 "github.com/drover-dr/drover/host/agent/proto/v1"
)

// OpenFile is host.Host's OpenFile on the machine: the file stays open in
// the agent, and every call on it is a call to the agent, whose file it
// is (fallocate for PunchHole, fadvise for the hints). Size is where the
// file ended when opened: a block device's size, which Stat does not tell.
func (c *Client) OpenFile(ctx context.Context, s Scope, path string, flag int, perm fs.FileMode) (*File, error) {
	resp, err := c.rpc.FileOpen(ctx, &agentv1.FileOpenRequest{Scope: s.proto(), Path: path, Flag: int64(flag), Perm: uint32(perm)})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &File{c: c, id: resp.Id, Size: resp.Size}, nil
}

// CreateTemp is host.Host's CreateTemp on the machine: the new file, open
// in the agent, and its path.
func (c *Client) CreateTemp(ctx context.Context, s Scope, path string) (*File, string, error) {
	resp, err := c.rpc.FileCreateTemp(ctx, &agentv1.PathRequest{Scope: s.proto(), Path: path})
	if err != nil {
		return nil, "", fromStatus(err)
	}
	return &File{c: c, id: resp.Id}, resp.Path, nil
}

// File is a file open in the agent, a host.File. Its calls have no
// context: a call cut off by the connection's end fails with ErrLost.
type File struct {
	c    *Client
	id   uint64
	Size int64

	mu  sync.Mutex
	off int64
	// ahead holds what Read fetched beyond what it was asked for, the
	// bytes at off: small sequential reads (a bufio.Reader) cost a round
	// trip per readAhead, not per call.
	ahead []byte
}

// readAhead is the least a Read fetches.
const readAhead = 1 << 20

var _ host.File = (*File)(nil)

func (f *File) handle() *agentv1.Handle { return &agentv1.Handle{Id: f.id} }

// ReadAt reads p in chunks of maxChunk, several in flight at once.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	type result struct {
		n   int
		eof bool
		err error
	}
	chunks := (len(p) + maxChunk - 1) / maxChunk
	results := make([]result, chunks)
	var wg sync.WaitGroup
	for i := range chunks {
		part := p[i*maxChunk : min(len(p), (i+1)*maxChunk)]
		wg.Go(func() {
			// The agent compresses what it sends when that pays.
			d, err := f.c.rpc.FileReadAt(context.Background(), &agentv1.FileReadAtRequest{Id: f.id, Offset: off + int64(i*maxChunk), Length: int64(len(part))})
			if err != nil {
				results[i].err = fromStatus(err)
				return
			}
			results[i] = result{n: copy(part, d.Data), eof: d.Eof}
		})
	}
	wg.Wait()
	n := 0
	for _, r := range results {
		n += r.n
		if r.err != nil {
			return n, r.err
		}
		if r.eof {
			return n, io.EOF
		}
	}
	return n, nil
}

// WriteAt writes p in chunks of maxChunk, several in flight at once.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	f.dropAhead()
	return f.writeAt(p, off)
}

// dropAhead forgets what Read fetched ahead, which a write may change.
func (f *File) dropAhead() {
	f.mu.Lock()
	f.ahead = nil
	f.mu.Unlock()
}

func (f *File) writeAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	chunks := (len(p) + maxChunk - 1) / maxChunk
	errs := make([]error, chunks)
	var wg sync.WaitGroup
	for i := range chunks {
		part := p[i*maxChunk : min(len(p), (i+1)*maxChunk)]
		wg.Go(func() {
			_, err := f.c.rpc.FileWriteAt(context.Background(), &agentv1.FileWriteAtRequest{Id: f.id, Offset: off + int64(i*maxChunk), Data: part},
				dataCompression(part))
			errs[i] = fromStatus(err)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			// What precedes the first failed chunk was written.
			return i * maxChunk, err
		}
	}
	return len(p), nil
}

// streamSize is how much WriteTo moves per round: several chunks in
// flight at once.
const streamSize = 4 * maxChunk

// WriteTo copies the file from the current offset to w, for io.Copy:
// rounds of chunks in flight rather than one call per small Read.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var total int64
	if len(f.ahead) > 0 {
		n, err := w.Write(f.ahead)
		f.ahead = f.ahead[n:]
		f.off += int64(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	buf := make([]byte, streamSize)
	for {
		n, err := f.ReadAt(buf, f.off)
		f.off += int64(n)
		if n > 0 {
			wn, werr := w.Write(buf[:n])
			total += int64(wn)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// ReadFrom copies r to the file from the current offset, for io.Copy. It
// reads the next piece of r while the piece before is being written: when
// r is a file of another agent (a mirror's copy between two machines),
// both connections are busy at once instead of taking turns.
func (f *File) ReadFrom(r io.Reader) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ahead = nil
	// A copy of a known length (io.CopyN, as a mirror copies each file)
	// needs no more buffer than it copies: zeroing a full piece for each
	// of many small files cost more than sending them.
	if lr, ok := r.(*io.LimitedReader); ok && lr.N < pieceSize {
		buf := make([]byte, max(lr.N, 1))
		n, rerr := io.ReadFull(r, buf)
		wn, err := f.writeAt(buf[:n], f.off)
		f.off += int64(wn)
		if err == nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			err = rerr
		}
		return int64(wn), err
	}
	type written struct {
		n   int
		err error
	}
	var (
		total   int64
		pending chan written
		bufs    [2]*[]byte
	)
	for i := range bufs {
		bufs[i] = pieces.Get().(*[]byte)
		defer pieces.Put(bufs[i])
	}
	// wait collects the write in flight, if any.
	wait := func() error {
		if pending == nil {
			return nil
		}
		w := <-pending
		pending = nil
		f.off += int64(w.n)
		total += int64(w.n)
		return w.err
	}
	for i := 0; ; i++ {
		// The write before the one in flight used this buffer, and it
		// ended before the one in flight began.
		buf := *bufs[i%2]
		n, rerr := io.ReadFull(r, buf)
		if err := wait(); err != nil {
			return total, err
		}
		if n > 0 {
			done := make(chan written, 1)
			pending = done
			go func(off int64) {
				wn, err := f.writeAt(buf[:n], off)
				done <- written{wn, err}
			}(f.off)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return total, wait()
		}
		if rerr != nil {
			// What was read before the error is written, as io.Copy does.
			if err := wait(); err != nil {
				return total, err
			}
			return total, rerr
		}
	}
}

// pieceSize is what ReadFrom reads of its reader at once, and writes in
// one call while it reads the next.
const pieceSize = 1 << 20

// pieces are ReadFrom's buffers, reused: a copy of many large files would
// otherwise allocate and clear a buffer per piece.
var pieces = sync.Pool{New: func() any { b := make([]byte, pieceSize); return &b }}

func (f *File) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ahead) == 0 && len(p) < readAhead {
		// No further ahead than the file's end as it was opened: a small
		// file is read without clearing a buffer many times its size.
		size := int64(readAhead)
		if f.Size > 0 {
			size = min(size, max(f.Size-f.off, int64(len(p))))
		}
		buf := make([]byte, size)
		n, err := f.ReadAt(buf, f.off)
		if n == 0 {
			return 0, err
		}
		f.ahead = buf[:n]
	}
	if len(f.ahead) > 0 {
		n := copy(p, f.ahead)
		f.ahead = f.ahead[n:]
		f.off += int64(n)
		return n, nil
	}
	n, err := f.ReadAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ahead = nil
	n, err := f.writeAt(p, f.off)
	f.off += int64(n)
	return n, err
}

// Seek from the end asks the agent where the file ends now.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		e, err := f.c.rpc.FileStat(context.Background(), f.handle())
		if err != nil {
			return 0, fromStatus(err)
		}
		end := e.Size
		if fs.FileMode(e.Mode)&fs.ModeDevice != 0 {
			end = f.Size
		}
		offset += end
	default:
		return 0, fmt.Errorf("seek: whence %d", whence)
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	f.ahead = nil
	f.off = offset
	return offset, nil
}

func (f *File) Stat() (fs.FileInfo, error) {
	e, err := f.c.rpc.FileStat(context.Background(), f.handle())
	if err != nil {
		return nil, fromStatus(err)
	}
	return fileInfo(e), nil
}

func (f *File) Sync() error {
	_, err := f.c.rpc.FileSync(context.Background(), f.handle())
	return fromStatus(err)
}

func (f *File) Truncate(size int64) error {
	f.dropAhead()
	_, err := f.c.rpc.FileTruncate(context.Background(), &agentv1.FileRangeRequest{Id: f.id, Length: size})
	return fromStatus(err)
}

func (f *File) PunchHole(off, n int64) error {
	f.dropAhead()
	_, err := f.c.rpc.FilePunchHole(context.Background(), &agentv1.FileRangeRequest{Id: f.id, Offset: off, Length: n})
	return fromStatus(err)
}

func (f *File) hint(h agentv1.FileHintRequest_Hint, off, n int64) error {
	_, err := f.c.rpc.FileHint(context.Background(), &agentv1.FileHintRequest{Id: f.id, Hint: h, Offset: off, Length: n})
	return fromStatus(err)
}

func (f *File) DropCache(off, n int64) error {
	return f.hint(agentv1.FileHintRequest_DROP_CACHE, off, n)
}
func (f *File) Sequential() error           { return f.hint(agentv1.FileHintRequest_SEQUENTIAL, 0, 0) }
func (f *File) Prefetch(off, n int64) error { return f.hint(agentv1.FileHintRequest_PREFETCH, off, n) }
func (f *File) WriteBack(off, n int64) error {
	return f.hint(agentv1.FileHintRequest_WRITE_BACK, off, n)
}

func (f *File) Close() error {
	_, err := f.c.rpc.FileClose(context.Background(), f.handle())
	return fromStatus(err)
}
