package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/drover-dr/drover/host"
)

// Small files cross between machines that run ops in batches: one op reads
// a batch of a folder's files on the source's machine, one writes it on
// the target's, where a file copied call by call through the transports
// takes a round trip for each of its stat, open, read, create, write,
// chmod, chtimes and rename. On the machines the ops go through the same
// host calls as a copy through the transports, with the same rules: a
// temp file of a random name created exclusively, never through a
// symlink, renamed over the old file once whole and with its metadata;
// nothing synced but the target at the end of the apply.
// Folders are made, and given their metadata at the end, in one op call
// each for the same reason.
const (
	readOp   = "mirror.read"
	writeOp  = "mirror.write"
	mkdirsOp = "mirror.mkdirs"
	metaOp   = "mirror.meta"
)

// batchBytes caps the data of one batch: enough to make the round trips
// few, little enough for the batches of every worker to fit in memory.
const batchBytes = 4 << 20

func init() {
	host.RegisterOp(readOp, readOnMachine)
	host.RegisterOp(writeOp, writeOnMachine)
	host.RegisterOp(mkdirsOp, mkdirsOnMachine)
	host.RegisterOp(metaOp, metaOnMachine)
}

// ReadRequest asks for the content of files of one folder, Dir (relative
// to the host the op runs on, "" for itself).
type ReadRequest struct {
	Dir   string
	Names []string
}

// ReadResponse holds, by name of the request, what was read.
type ReadResponse struct {
	Files []ReadFile
	// buf holds the files' content, on the machine that read them.
	buf *readBuffer
	// release gives back the buffer the content lies in, on the
	// controller (host.BulkHolder).
	release func()
}

// readBuffer is where a batch's files are read, one after the other: a
// buffer an agent reuses once the batch is encoded for the wire
// (ReleaseBulk), where a slice for each file would have it allocate,
// clear and collect every byte it sends.
type readBuffer struct{ b []byte }

var readBuffers = sync.Pool{New: func() any { return new(readBuffer) }}

// take returns n bytes of the buffer, not cleared: a file's content
// overwrites them whole. What is taken stays valid when the buffer
// outgrows its array: the next takes come from a new one, twice as large
// up to a batch's size (a buffer that is not reused, read for a local
// host, costs at most twice its content).
func (rb *readBuffer) take(n int64) []byte {
	if int64(cap(rb.b)-len(rb.b)) < n {
		rb.b = make([]byte, 0, max(n, min(2*int64(cap(rb.b)), batchBytes), 64<<10))
	}
	start := len(rb.b)
	rb.b = rb.b[:start+int(n)]
	return rb.b[start : start+int(n) : start+int(n)]
}

// ReleaseBulk gives the buffer back once nothing uses the content: on the
// machine that read it, once the response is encoded (the encoding holds
// a copy); on the controller, once the files are written.
func (r ReadResponse) ReleaseBulk() {
	if r.buf != nil {
		r.buf.b = r.buf.b[:0]
		readBuffers.Put(r.buf)
	}
	if r.release != nil {
		r.release()
	}
}

func (r *ReadResponse) HoldBulk(release func()) { r.release = release }

// ReadFile is one file read whole: its content, and the metadata it had
// before a read during which it did not change.
type ReadFile struct {
	Stat   host.EntryStat
	Result FileResult
	// data crosses beside the rest (host.Bulk).
	data []byte
}

// BulkData and SetBulkData make the files' content cross the wire as it
// is, beside the rest of the response.
func (r ReadResponse) BulkData() [][]byte {
	data := make([][]byte, len(r.Files))
	for i, f := range r.Files {
		data[i] = f.data
	}
	return data
}

func (r *ReadResponse) SetBulkData(data [][]byte) error {
	if len(data) != len(r.Files) {
		return fmt.Errorf("the content of %d files for %d read", len(data), len(r.Files))
	}
	for i := range r.Files {
		r.Files[i].data = data[i]
	}
	return nil
}

// FileResult is how an op ended for one file.
type FileResult struct {
	// Err is why the file could not be read or written ("" if it was).
	Err string
	// Retry says the file changed or vanished meanwhile: the next run
	// mirrors it.
	Retry bool
}

func resultOf(err error) FileResult {
	if err == nil {
		return FileResult{}
	}
	return FileResult{Err: err.Error(), Retry: errors.Is(err, errChanged) || errors.Is(err, fs.ErrNotExist)}
}

// err is the result as the mirror lists it.
func (fr FileResult) err() error {
	switch {
	case fr.Err == "":
		return nil
	case fr.Retry:
		return retryError(fr.Err)
	}
	return errors.New(fr.Err)
}

// retryError is a file left for the next run by an op: the mirror lists
// it with those that changed while being copied.
type retryError string

func (e retryError) Error() string        { return string(e) }
func (e retryError) Is(target error) bool { return target == errChanged }

// WriteRequest asks for files to be written into one folder, Dir, each to
// a temp file renamed over the old one; with MakeDir, Dir is made first
// (and its missing parents, as mirror.mkdirs makes them) if it is not
// there.
type WriteRequest struct {
	Dir      string
	Preserve Preserve
	MakeDir  bool
	Files    []WriteFile
}

// WriteFile is a file to write: its content and the source's metadata;
// Dst is the target's entry it replaces (whose mode stays when modes are
// not preserved), if any; Records says block records may lie beside it,
// to be removed with it.
type WriteFile struct {
	Name    string
	Src     host.EntryStat
	Dst     *host.EntryStat
	Records bool
	// data crosses beside the rest (host.Bulk).
	data []byte
}

// BulkData and SetBulkData make the files' content cross the wire as it
// is, beside the rest of the request.
func (r WriteRequest) BulkData() [][]byte {
	data := make([][]byte, len(r.Files))
	for i, f := range r.Files {
		data[i] = f.data
	}
	return data
}

func (r *WriteRequest) SetBulkData(data [][]byte) error {
	if len(data) != len(r.Files) {
		return fmt.Errorf("the content of %d files for %d to write", len(data), len(r.Files))
	}
	for i := range r.Files {
		r.Files[i].data = data[i]
	}
	return nil
}

// WriteResponse holds, by file of the request, how its write ended.
type WriteResponse struct {
	Results []FileResult
}

// subFolder is h confined to its folder dir, and how to close it.
func subFolder(ctx context.Context, h host.Host, dir string) (host.Host, func(), error) {
	if dir == "" {
		return h, func() {}, nil
	}
	sub, err := h.Sub(ctx, hostPath(dir))
	if err != nil {
		return nil, nil, err
	}
	return sub, func() { sub.Close() }, nil
}

// readOnMachine is the op mirror.read.
func readOnMachine(ctx context.Context, h host.Host, req ReadRequest) (ReadResponse, error) {
	resp := ReadResponse{Files: make([]ReadFile, len(req.Names)), buf: readBuffers.Get().(*readBuffer)}
	dir, closeDir, err := subFolder(ctx, h, req.Dir)
	if err != nil {
		for i := range resp.Files {
			resp.Files[i].Result = resultOf(err)
		}
		return resp, nil
	}
	defer closeDir()
	for i, name := range req.Names {
		if err := ctx.Err(); err != nil {
			return resp, err
		}
		f := &resp.Files[i]
		var e *Entry
		e, f.data, err = readWhole(ctx, dir, "/"+name, resp.buf)
		if err == nil {
			f.Stat = host.EntryStat(*e)
		}
		f.Result = resultOf(err)
	}
	return resp, nil
}

// readWhole reads the file at path whole into buf, as copyFile copies it:
// the metadata returned is what the file had before a read during which
// it did not change.
func readWhole(ctx context.Context, h host.Host, path string, buf *readBuffer) (*Entry, []byte, error) {
	for range attempts {
		fi, err := h.Lstat(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		before := entryOf(fi)
		switch {
		case before.Kind() != KindFile:
			return nil, nil, fmt.Errorf("became a %s: %w", before.Kind(), errChanged)
		case before.Size >= bigEntry:
			// A batch holds small files only: the next run copies it as
			// the large file it became.
			return nil, nil, fmt.Errorf("grew to %d bytes: %w", before.Size, errChanged)
		}
		data, err := readSize(ctx, h, path, buf.take(before.Size))
		if errors.Is(err, io.ErrUnexpectedEOF) {
			continue // it shrank
		}
		if err != nil {
			return nil, nil, err
		}
		fi, err = h.Lstat(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		if after := entryOf(fi); after.Size != before.Size || after.MTime != before.MTime || after.Kind() != KindFile {
			continue
		}
		return before, data, nil
	}
	return nil, nil, errChanged
}

// readSize reads into data the len(data) bytes the file at path had: if
// it grows meanwhile, the look at it after the read sees it.
func readSize(ctx context.Context, h host.Host, path string, data []byte) ([]byte, error) {
	in, err := h.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	if _, err := io.ReadFull(in, data); err != nil && !(len(data) == 0 && err == io.EOF) {
		return nil, err
	}
	return data, nil
}

// writeOnMachine is the op mirror.write.
func writeOnMachine(ctx context.Context, h host.Host, req WriteRequest) (WriteResponse, error) {
	resp := WriteResponse{Results: make([]FileResult, len(req.Files))}
	var err error
	if req.MakeDir && req.Dir != "" {
		err = h.MkdirAll(ctx, hostPath(req.Dir), 0o700)
	}
	dir, closeDir := h, func() {}
	if err == nil {
		dir, closeDir, err = subFolder(ctx, h, req.Dir)
	}
	if err != nil {
		for i := range resp.Results {
			resp.Results[i] = resultOf(err)
		}
		return resp, nil
	}
	defer closeDir()
	for i, f := range req.Files {
		if err := ctx.Err(); err != nil {
			return resp, err
		}
		resp.Results[i] = resultOf(writeWhole(ctx, dir, req.Preserve, f))
	}
	return resp, nil
}

// writeWhole writes f to a temp file of the folder h, gives it the
// source's metadata and renames it over the old file.
func writeWhole(ctx context.Context, h host.Host, pres Preserve, f WriteFile) (err error) {
	path := "/" + f.Name
	out, tmp, err := h.CreateTemp(ctx, path)
	if err != nil {
		return err
	}
	_, err = out.Write(f.data)
	if err == nil {
		// On its machine, the file is one whose metadata is set through
		// it, before it is closed; through a transport, by its name.
		var t metadataTarget = pathMeta{ctx, h, tmp}
		if mf, ok := out.(host.MetadataFile); ok {
			t = fileMeta{pathMeta{ctx, h, tmp}, mf}
		}
		err = setMetadataOf(pres, t, (*Entry)(&f.Src), (*Entry)(f.Dst), false)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		h.Remove(context.WithoutCancel(ctx), tmp)
		return err
	}
	return replace(ctx, h, tmp, path, f.Records)
}

// batched says whether c is a small file's copy that crosses in a batch.
func (r *pairRun) batched(c *Change) bool {
	return r.batches && c.Kind == KindFile && c.Content && c.Src.Size < bigEntry && !c.Src.sparse() && !r.byBlocks(c)
}

// copyBatches copies the files cs of the folder dir, all batched, a batch
// of at most batchBytes at a time.
func (r *pairRun) copyBatches(dir string, cs []*Change) {
	for len(cs) > 0 && r.ctx.Err() == nil {
		n, size := 1, cs[0].Src.Size
		for n < len(cs) && size+cs[n].Src.Size <= batchBytes {
			size += cs[n].Src.Size
			n++
		}
		r.copyBatch(dir, cs[:n])
		cs = cs[n:]
	}
}

// copyBatch reads the files cs of the folder dir on the source's machine
// and writes them on the target's.
func (r *pairRun) copyBatch(dir string, cs []*Change) {
	r.current.Store(&cs[0].Path)
	rreq := ReadRequest{Dir: dir, Names: make([]string, len(cs))}
	for i, c := range cs {
		rreq.Names[i] = pathBase(c.Path)
	}
	read, err := host.Call[ReadRequest, ReadResponse](r.ctx, r.p.src, readOp, rreq)
	if err == nil && len(read.Files) != len(cs) {
		err = fmt.Errorf("op %s answered for %d files of %d", readOp, len(read.Files), len(cs))
	}
	if err != nil {
		for _, c := range cs {
			r.settle(c, err)
		}
		return
	}
	defer read.ReleaseBulk()
	wreq := WriteRequest{Dir: dir, Preserve: r.m.opts.Preserve, MakeDir: r.withFiles[dir]}
	var sent []*Change
	var size int64
	for i, f := range read.Files {
		c := cs[i]
		if err := f.Result.err(); err != nil {
			r.settle(c, err)
			continue
		}
		wreq.Files = append(wreq.Files, WriteFile{Name: rreq.Names[i], data: f.data, Src: f.Stat,
			Dst: (*host.EntryStat)(c.Dst), Records: r.replacesBlocks(c)})
		sent = append(sent, c)
		size += int64(len(f.data))
	}
	if len(sent) == 0 {
		return
	}
	for left, step := size, r.chunkSize(); left > 0; left -= step {
		if err := r.pace(min(left, step)); err != nil {
			return
		}
	}
	written, err := host.Call[WriteRequest, WriteResponse](r.ctx, r.dst, writeOp, wreq)
	if err == nil && len(written.Results) != len(sent) {
		err = fmt.Errorf("op %s answered for %d files of %d", writeOp, len(written.Results), len(sent))
	}
	for i, c := range sent {
		err := err
		if err == nil {
			err = written.Results[i].err()
		}
		if err == nil {
			r.bytes.Add(int64(len(wreq.Files[i].data)))
		}
		r.settle(c, err)
	}
}

// MkdirsRequest asks for folders to be made, parents first.
type MkdirsRequest struct {
	Paths []string
}

// MkdirsResponse holds, by path of the request, how its making ended.
type MkdirsResponse struct {
	Results []FileResult
}

// mkdirsOnMachine is the op mirror.mkdirs: a folder inside one that could
// not be made is skipped, as the mirror skips it (pairRun.dir).
func mkdirsOnMachine(ctx context.Context, h host.Host, req MkdirsRequest) (MkdirsResponse, error) {
	resp := MkdirsResponse{Results: make([]FileResult, len(req.Paths))}
	var failed []string
	for i, p := range req.Paths {
		if err := ctx.Err(); err != nil {
			return resp, err
		}
		if slices.ContainsFunc(failed, func(f string) bool { return strings.HasPrefix(p, f+"/") }) {
			continue
		}
		if err := h.MkdirAll(ctx, p, 0o700); err != nil {
			failed = append(failed, p)
			resp.Results[i] = resultOf(err)
		}
	}
	return resp, nil
}

// madeWithFiles picks the new folders whose first batch of files makes
// them (WriteRequest.MakeDir): those into which only batches write. Made
// all at once before any file, a tree's folders land side by side on the
// disk and their files wherever there is room, scattered; made one by
// one as their files come, each folder's files follow it. On the
// benchmark's 20,000 files in 200 folders the sync at the end wrote 1,400
// requests, 290 so. A folder that gets anything else (a large file, a
// link) is made before, as the copies of those open it.
func (r *pairRun) madeWithFiles(dirs, entries, links []*Change) map[string]bool {
	if !r.batches {
		return nil
	}
	batched, other := map[string]bool{}, map[string]bool{}
	for _, c := range entries {
		if r.batched(c) {
			batched[parent(c.Path)] = true
		} else {
			other[parent(c.Path)] = true
		}
	}
	for _, c := range links {
		other[parent(c.Path)] = true
	}
	with := map[string]bool{}
	for _, c := range dirs {
		if c.Path != "" && (c.Op == OpAdd || c.Reason&ReasonType != 0) && batched[c.Path] && !other[c.Path] {
			with[c.Path] = true
		}
	}
	return with
}

// mkdirs returns how dir makes the folders of dirs: each through the
// transport, or all of them at once by an op on the target's machine;
// nothing for those their files make (withFiles).
func (r *pairRun) mkdirs(dirs []*Change) func(*Change) error {
	mkdir := r.mkdirsBefore(dirs)
	return func(c *Change) error {
		if r.withFiles[c.Path] {
			return nil
		}
		return mkdir(c)
	}
}

func (r *pairRun) mkdirsBefore(dirs []*Change) func(*Change) error {
	each := func(c *Change) error { return r.dst.MkdirAll(r.ctx, hostPath(c.Path), 0o700) }
	if !r.batches {
		return each
	}
	var req MkdirsRequest
	index := map[*Change]int{}
	for _, c := range dirs {
		if c.Path != "" && (c.Op == OpAdd || c.Reason&ReasonType != 0) && !r.withFiles[c.Path] {
			index[c] = len(req.Paths)
			req.Paths = append(req.Paths, hostPath(c.Path))
		}
	}
	if len(req.Paths) == 0 {
		return each
	}
	resp, err := host.Call[MkdirsRequest, MkdirsResponse](r.ctx, r.dst, mkdirsOp, req)
	if err == nil && len(resp.Results) != len(req.Paths) {
		err = fmt.Errorf("op %s answered for %d folders of %d", mkdirsOp, len(resp.Results), len(req.Paths))
	}
	return func(c *Change) error {
		if err != nil {
			return err
		}
		return resp.Results[index[c]].err()
	}
}

// MetaRequest asks for folders, deepest first, to be given the metadata
// of their sources.
type MetaRequest struct {
	Preserve Preserve
	Folders  []FolderMeta
}

// FolderMeta is a folder's path, its source's entry, and its own as the
// walk found it, if any.
type FolderMeta struct {
	Path string
	Src  host.EntryStat
	Dst  *host.EntryStat
}

// MetaResponse holds, by folder of the request, how setting its
// metadata ended.
type MetaResponse struct {
	Results []FileResult
}

// metaOnMachine is the op mirror.meta.
func metaOnMachine(ctx context.Context, h host.Host, req MetaRequest) (MetaResponse, error) {
	resp := MetaResponse{Results: make([]FileResult, len(req.Folders))}
	for i, f := range req.Folders {
		if err := ctx.Err(); err != nil {
			return resp, err
		}
		resp.Results[i] = resultOf(setMetadata(ctx, req.Preserve, h, f.Path, (*Entry)(&f.Src), (*Entry)(f.Dst), true))
	}
	return resp, nil
}

// metadataOnMachine sets the metadata of the folders of dirs (Src, and
// Dst as the walk found it) by one op on the target's machine.
func (r *pairRun) metadataOnMachine(dirs []*Change) {
	if len(dirs) == 0 {
		return
	}
	req := MetaRequest{Preserve: r.m.opts.Preserve, Folders: make([]FolderMeta, len(dirs))}
	for i, c := range dirs {
		req.Folders[i] = FolderMeta{Path: hostPath(c.Path), Src: host.EntryStat(*c.Src), Dst: (*host.EntryStat)(c.Dst)}
	}
	resp, err := host.Call[MetaRequest, MetaResponse](r.ctx, r.dst, metaOp, req)
	if err == nil && len(resp.Results) != len(dirs) {
		err = fmt.Errorf("op %s answered for %d folders of %d", metaOp, len(resp.Results), len(dirs))
	}
	for i, c := range dirs {
		err := err
		if err == nil {
			err = resp.Results[i].err()
		}
		if err != nil && r.ctx.Err() == nil {
			r.fail(r.i, c.Path, err)
		}
	}
}
