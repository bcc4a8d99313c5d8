package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-dr/drover/host"
	agentv1 "github.com/drover-dr/drover/host/agent/proto/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// maxMessage bounds one message either way: a folder of a million entries
// listed in one ReadDirStat fits.
const maxMessage = 512 << 20

// window is HTTP/2's flow-control window of a call: a few chunks, so that
// the calls in flight of a copy keep the link busy however long its round
// trip. ioBuffer is what each end reads and writes of the connection at
// once.
const (
	window   = 2 * maxChunk
	ioBuffer = 1 << 20
)

// Serve serves the agent on in and out (its stdin and stdout) until the
// connection ends: in reaches its end (the SSH connection closed) or ctx
// ends. It never listens on a port. The calls in flight are then
// cancelled and waited for: an op ends as its context does, and what it
// holds (a frozen file system, a guest's overlay) is released before the
// agent exits. Open tripwires and files are closed as it returns.
func Serve(ctx context.Context, in io.ReadCloser, out io.WriteCloser) error {
	// The handshake reports it first: found while gRPC sets up.
	go servedExecutable()
	growPipes(in, out)
	conn := newPipeConn(in, out, in, out)
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage),
		grpc.InitialWindowSize(window), grpc.InitialConnWindowSize(4*window),
		grpc.ReadBufferSize(ioBuffer), grpc.WriteBufferSize(ioBuffer), grpc.WaitForHandlers(true))
	s := newServer()
	defer s.close()
	// The relay's transfers end before the files they use close.
	var stopRelay func()
	s.relay, stopRelay = s.listenRelay()
	defer stopRelay()
	agentv1.RegisterAgentServer(srv, s)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	err := srv.Serve(&onceListener{conn: conn})
	// Calls in flight (a Watch, an op) end with the connection.
	srv.Stop()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// server is the agent's side of the protocol: the machine's own hosts,
// one per scope, and the tripwires and files opened through it.
type server struct {
	agentv1.UnimplementedAgentServer

	mu     sync.Mutex
	hosts  map[scopeKey]host.Host
	nextID atomic.Uint64
	trips  map[uint64]host.Tripwire
	files  map[uint64]host.File
	// relay is the socket of raw transfers (relay.go), "" for none.
	relay string
}

type scopeKey struct {
	name, root, sub string
	subID           uint64
}

func newServer() *server {
	return &server{hosts: map[scopeKey]host.Host{}, trips: map[uint64]host.Tripwire{}, files: map[uint64]host.File{}}
}

func (s *server) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tw := range s.trips {
		tw.Close()
	}
	for _, f := range s.files {
		f.Close()
	}
	for _, h := range s.hosts {
		h.Close()
	}
}

// host is the local host a scope names: rooted where the SSH host is, so
// that os.Root keeps every path below the root on the machine, with no
// window between resolving a path and acting on it.
func (s *server) host(ctx context.Context, sc *agentv1.Scope) (host.Host, error) {
	key := scopeKey{sc.GetName(), sc.GetRoot(), sc.GetSub(), sc.GetSubId()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.hosts[key]; ok {
		return h, nil
	}
	top := scopeKey{name: key.name, root: key.root}
	h, ok := s.hosts[top]
	if !ok {
		h = host.NewLocal(key.name, key.root)
		s.hosts[top] = h
	}
	if key.sub == "" {
		return h, nil
	}
	sub, err := h.Sub(ctx, key.sub)
	if err != nil {
		return nil, err
	}
	s.hosts[key] = sub
	return sub, nil
}

func (s *server) Hello(ctx context.Context, req *agentv1.HelloRequest) (*agentv1.HelloResponse, error) {
	_, sum, err := servedExecutable()
	if err != nil {
		return nil, toStatus(err)
	}
	return &agentv1.HelloResponse{Sha256: sum, Goos: runtime.GOOS, Goarch: runtime.GOARCH, Pid: int64(os.Getpid()), Ops: host.Ops(), Relay: s.relay}, nil
}

func (s *server) Release(ctx context.Context, sc *agentv1.Scope) (*agentv1.Empty, error) {
	key := scopeKey{sc.GetName(), sc.GetRoot(), sc.GetSub(), sc.GetSubId()}
	if key.sub == "" {
		return &agentv1.Empty{}, nil
	}
	s.mu.Lock()
	h, ok := s.hosts[key]
	delete(s.hosts, key)
	s.mu.Unlock()
	if ok {
		h.Close()
	}
	return &agentv1.Empty{}, nil
}

func (s *server) Invoke(req *agentv1.InvokeRequest, stream agentv1.Agent_InvokeServer) error {
	ctx := stream.Context()
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return toStatus(err)
	}
	if req.Tripwire != 0 {
		tw, err := s.tripwire(req.Tripwire)
		if err != nil {
			return err
		}
		ctx = host.WithTripwire(ctx, tw)
	}
	// The op may report from several goroutines, and after it returned
	// (a straggler): a stream takes one Send at a time, and none once
	// the call has ended.
	var mu sync.Mutex
	ended := false
	ctx = host.WithProgress(ctx, func(p host.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			// A failed send means the caller is gone, which ends ctx
			// and with it the op.
			stream.Send(&agentv1.InvokeResponse{Reply: &agentv1.InvokeResponse_Progress{Progress: &agentv1.Progress{
				Done: p.Done, Total: p.Total, Unit: p.Unit, Message: p.Message}}})
		}
	})
	end := func() {
		mu.Lock()
		ended = true
		mu.Unlock()
	}
	var sendErr error
	err = host.ServeOp(ctx, h, req.Name, req.Request, func(out []byte) error {
		end()
		// Send encodes the message before it returns: out is free then.
		sendErr = stream.Send(&agentv1.InvokeResponse{Reply: &agentv1.InvokeResponse_Response{Response: out}})
		return sendErr
	})
	end()
	if err != nil && sendErr == nil {
		return toStatus(err)
	}
	return err
}

func (s *server) Lstat(ctx context.Context, req *agentv1.PathRequest) (*agentv1.Entry, error) {
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return nil, toStatus(err)
	}
	fi, err := h.Lstat(ctx, req.Path)
	if err != nil {
		return nil, toStatus(err)
	}
	return entryOfInfo(fi), nil
}

func entryOfInfo(fi fs.FileInfo) *agentv1.Entry {
	e := host.EntryStat{Name: fi.Name(), Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Mode: fi.Mode()}
	if st, ok := host.StatOf(fi); ok {
		e.SetStat(st)
	}
	return toEntry(e)
}

func toEntry(e host.EntryStat) *agentv1.Entry {
	return &agentv1.Entry{Name: e.Name, Link: e.Link, Size: e.Size, Mtime: e.MTime, Dev: e.Dev, Ino: e.Ino, Blocks: e.Blocks,
		Uid: e.UID, Gid: e.GID, Nlink: e.Nlink, Mode: uint32(e.Mode), HasStat: e.HasStat}
}

func (s *server) ReadDirStat(ctx context.Context, req *agentv1.PathRequest) (*agentv1.ReadDirStatResponse, error) {
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return nil, toStatus(err)
	}
	return dirStatResponse(h.ReadDirStat(ctx, req.Path))
}

// dirStatResponse sends the entries a ReadDirStat read, and the errors of
// those it could not, as they came.
func dirStatResponse(entries []host.EntryStat, err error) (*agentv1.ReadDirStatResponse, error) {
	var bad host.EntryErrors
	if err != nil && !errors.As(err, &bad) {
		return nil, toStatus(err)
	}
	resp := &agentv1.ReadDirStatResponse{Entries: make([]*agentv1.Entry, len(entries))}
	for i, e := range entries {
		resp.Entries[i] = toEntry(e)
	}
	for _, b := range bad {
		resp.Errors = append(resp.Errors, &agentv1.EntryError{Name: b.Name, Code: uint32(codeOf(b.Err)), Message: b.Err.Error()})
	}
	return resp, nil
}

func (s *server) Sync(ctx context.Context, req *agentv1.PathRequest) (*agentv1.Empty, error) {
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return nil, toStatus(err)
	}
	return &agentv1.Empty{}, toStatus(h.Sync(ctx, req.Path))
}

func (s *server) PathOp(ctx context.Context, req *agentv1.PathOpRequest) (*agentv1.PathOpResponse, error) {
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &agentv1.PathOpResponse{}
	switch req.Op {
	case agentv1.PathOpRequest_CHTIMES:
		err = h.Chtimes(ctx, req.Path, time.Unix(0, req.Atime), time.Unix(0, req.Mtime))
	case agentv1.PathOpRequest_CHMOD:
		err = h.Chmod(ctx, req.Path, fs.FileMode(req.Mode))
	case agentv1.PathOpRequest_MKDIR_ALL:
		err = h.MkdirAll(ctx, req.Path, fs.FileMode(req.Mode))
	case agentv1.PathOpRequest_REMOVE:
		err = h.Remove(ctx, req.Path)
	case agentv1.PathOpRequest_RENAME:
		err = h.Rename(ctx, req.Path, req.Path2)
	case agentv1.PathOpRequest_SYMLINK:
		err = h.Symlink(ctx, req.Path, req.Path2)
	case agentv1.PathOpRequest_READLINK:
		resp.Target, err = h.Readlink(ctx, req.Path)
	case agentv1.PathOpRequest_LINK:
		err = h.Link(ctx, req.Path, req.Path2)
	case agentv1.PathOpRequest_LCHOWN:
		err = h.Lchown(ctx, req.Path, int(req.Uid), int(req.Gid))
	default:
		err = fmt.Errorf("path operation %v: %w", req.Op, errors.ErrUnsupported)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

func (s *server) Reflink(ctx context.Context, req *agentv1.ReflinkRequest) (*agentv1.Empty, error) {
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return nil, toStatus(err)
	}
	return &agentv1.Empty{}, toStatus(h.Reflink(ctx, req.Src, req.Dst))
}

func (s *server) WriteFile(stream agentv1.Agent_WriteFileServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h, err := s.host(ctx, first.Scope)
	if err != nil {
		return toStatus(err)
	}
	r := &streamReader{recv: stream.Recv, buf: first.Data, abort: first.Abort}
	if err := h.WriteFile(ctx, first.Path, r, fs.FileMode(first.Mode)); err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(&agentv1.Empty{})
}

// streamReader reads the data of a stream's messages in order.
type streamReader struct {
	recv  func() (*agentv1.WriteFileRequest, error)
	buf   []byte
	abort string
}

func (r *streamReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.abort != "" {
			return 0, errors.New(r.abort)
		}
		m, err := r.recv()
		if err != nil {
			return 0, err
		}
		r.buf, r.abort = m.Data, m.Abort
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (s *server) Watch(req *agentv1.PathRequest, stream agentv1.Agent_WatchServer) error {
	ctx := stream.Context()
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return toStatus(err)
	}
	events, err := h.Watch(ctx, req.Path)
	if err != nil {
		return toStatus(err)
	}
	// The header tells the caller the watch is set up.
	if err := stream.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	for ev := range events {
		m := &agentv1.WatchEvent{Path: ev.Path, Overflow: ev.Overflow}
		if ev.Err != nil {
			m.Error = ev.Err.Error()
		}
		if err := stream.Send(m); err != nil {
			// The caller is gone: end the watch, and drain what it
			// sends until it closes its channel.
			for range events {
			}
			return err
		}
	}
	return nil
}

func (s *server) TripwireOpen(ctx context.Context, req *agentv1.PathRequest) (*agentv1.Handle, error) {
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return nil, toStatus(err)
	}
	// The tripwire outlives this call: it lives until TripwireClose.
	tw, err := h.Tripwire(context.WithoutCancel(ctx), req.Path)
	if err != nil {
		return nil, toStatus(err)
	}
	id := s.nextID.Add(1)
	s.mu.Lock()
	s.trips[id] = tw
	s.mu.Unlock()
	return &agentv1.Handle{Id: id}, nil
}

func (s *server) tripwire(id uint64) (host.Tripwire, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tw, ok := s.trips[id]
	if !ok {
		return nil, toStatus(fmt.Errorf("no tripwire %d in the agent (closed already)", id))
	}
	return tw, nil
}

func (s *server) TripwireReadDirStat(ctx context.Context, req *agentv1.HandlePathRequest) (*agentv1.ReadDirStatResponse, error) {
	tw, err := s.tripwire(req.Id)
	if err != nil {
		return nil, err
	}
	return dirStatResponse(tw.ReadDirStat(ctx, req.Path))
}

func (s *server) TripwireTripped(ctx context.Context, req *agentv1.Handle) (*agentv1.TrippedResponse, error) {
	tw, err := s.tripwire(req.Id)
	if err != nil {
		return nil, err
	}
	return &agentv1.TrippedResponse{Tripped: tw.Tripped()}, nil
}

func (s *server) TripwireClose(ctx context.Context, req *agentv1.Handle) (*agentv1.Empty, error) {
	s.mu.Lock()
	tw, ok := s.trips[req.Id]
	delete(s.trips, req.Id)
	s.mu.Unlock()
	if !ok {
		return &agentv1.Empty{}, nil
	}
	return &agentv1.Empty{}, toStatus(tw.Close())
}

func (s *server) FileOpen(ctx context.Context, req *agentv1.FileOpenRequest) (*agentv1.FileOpenResponse, error) {
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return nil, toStatus(err)
	}
	if req.Flag < math.MinInt32 || req.Flag > math.MaxInt32 {
		return nil, toStatus(fmt.Errorf("open %s: flags %#x out of range", req.Path, req.Flag))
	}
	f, err := h.OpenFile(ctx, req.Path, int(req.Flag), fs.FileMode(req.Perm))
	if err != nil {
		return nil, toStatus(err)
	}
	// The size of a block device is where it ends; its Stat says 0.
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, toStatus(err)
	}
	return &agentv1.FileOpenResponse{Id: s.addFile(f), Size: size}, nil
}

func (s *server) FileCreateTemp(ctx context.Context, req *agentv1.PathRequest) (*agentv1.FileOpenResponse, error) {
	h, err := s.host(ctx, req.Scope)
	if err != nil {
		return nil, toStatus(err)
	}
	f, tmp, err := h.CreateTemp(ctx, req.Path)
	if err != nil {
		return nil, toStatus(err)
	}
	return &agentv1.FileOpenResponse{Id: s.addFile(f), Path: tmp}, nil
}

func (s *server) addFile(f host.File) uint64 {
	id := s.nextID.Add(1)
	s.mu.Lock()
	s.files[id] = f
	s.mu.Unlock()
	return id
}

func (s *server) file(id uint64) (host.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	if !ok {
		return nil, toStatus(fmt.Errorf("file %d is not open in the agent: %w", id, os.ErrClosed))
	}
	return f, nil
}

func (s *server) FileReadAt(ctx context.Context, req *agentv1.FileReadAtRequest) (*agentv1.Data, error) {
	f, err := s.file(req.Id)
	if err != nil {
		return nil, err
	}
	if req.Length < 0 || req.Length > maxChunk {
		return nil, toStatus(fmt.Errorf("reading %d bytes at once: at most %d", req.Length, maxChunk))
	}
	buf := make([]byte, req.Length)
	n, err := f.ReadAt(buf, req.Offset)
	if err != nil && err != io.EOF {
		return nil, toStatus(err)
	}
	if Compressible(buf[:n]) {
		grpc.SetSendCompressor(ctx, compressorName)
	}
	return &agentv1.Data{Data: buf[:n], Eof: err == io.EOF}, nil
}

func (s *server) FileWriteAt(ctx context.Context, req *agentv1.FileWriteAtRequest) (*agentv1.Empty, error) {
	f, err := s.file(req.Id)
	if err != nil {
		return nil, err
	}
	_, err = f.WriteAt(req.Data, req.Offset)
	return &agentv1.Empty{}, toStatus(err)
}

func (s *server) FileStat(ctx context.Context, req *agentv1.Handle) (*agentv1.Entry, error) {
	f, err := s.file(req.Id)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, toStatus(err)
	}
	return entryOfInfo(fi), nil
}

func (s *server) FileSync(ctx context.Context, req *agentv1.Handle) (*agentv1.Empty, error) {
	f, err := s.file(req.Id)
	if err != nil {
		return nil, err
	}
	return &agentv1.Empty{}, toStatus(f.Sync())
}

func (s *server) FileTruncate(ctx context.Context, req *agentv1.FileRangeRequest) (*agentv1.Empty, error) {
	f, err := s.file(req.Id)
	if err != nil {
		return nil, err
	}
	return &agentv1.Empty{}, toStatus(f.Truncate(req.Length))
}

func (s *server) FilePunchHole(ctx context.Context, req *agentv1.FileRangeRequest) (*agentv1.Empty, error) {
	f, err := s.file(req.Id)
	if err != nil {
		return nil, err
	}
	return &agentv1.Empty{}, toStatus(f.PunchHole(req.Offset, req.Length))
}

func (s *server) FileHint(ctx context.Context, req *agentv1.FileHintRequest) (*agentv1.Empty, error) {
	f, err := s.file(req.Id)
	if err != nil {
		return nil, err
	}
	switch req.Hint {
	case agentv1.FileHintRequest_DROP_CACHE:
		err = f.DropCache(req.Offset, req.Length)
	case agentv1.FileHintRequest_SEQUENTIAL:
		err = f.Sequential()
	case agentv1.FileHintRequest_PREFETCH:
		err = f.Prefetch(req.Offset, req.Length)
	case agentv1.FileHintRequest_WRITE_BACK:
		err = f.WriteBack(req.Offset, req.Length)
	}
	return &agentv1.Empty{}, toStatus(err)
}

func (s *server) FileClose(ctx context.Context, req *agentv1.Handle) (*agentv1.Empty, error) {
	s.mu.Lock()
	f, ok := s.files[req.Id]
	delete(s.files, req.Id)
	s.mu.Unlock()
	if !ok {
		return nil, toStatus(fmt.Errorf("file %d is not open in the agent: %w", req.Id, os.ErrClosed))
	}
	return &agentv1.Empty{}, toStatus(f.Close())
}
