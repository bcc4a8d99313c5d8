package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sync/atomic"
	"time"

	"github.com/drover-dr/drover/host"
	agentv1 "github.com/drover-dr/drover/host/agent/proto/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// maxChunk is the most file data one call carries: large enough that a
// call's round trip is small beside the transfer, small enough that a few
// calls in flight keep the link busy without much memory.
const maxChunk = 4 << 20

// ErrLost is wrapped by the error of a call cut off because the agent's
// connection ended (the SSH connection dropped, the agent exited).
var ErrLost = errors.New("the connection to the agent ended")

// Client is the controller's side of one agent: calls go over the
// connection it was given, concurrently.
type Client struct {
	cc   *grpc.ClientConn
	rpc  agentv1.AgentClient
	conn *pipeConn
	// Hello is what the agent said of itself.
	Hello *agentv1.HelloResponse
}

// NewClient speaks the protocol over r and w (an SSH session's stdout and
// stdin, with the agent at the other end) and makes the handshake. closers
// are closed with the client (the session).
func NewClient(ctx context.Context, r io.Reader, w io.WriteCloser, closers ...io.Closer) (*Client, error) {
	conn := newPipeConn(r, w, append([]io.Closer{w}, closers...)...)
	var dialled atomic.Bool
	cc, err := grpc.DialContext(ctx, "passthrough:///agent",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage)),
		grpc.WithInitialWindowSize(window), grpc.WithInitialConnWindowSize(4*window),
		grpc.WithReadBufferSize(ioBuffer), grpc.WithWriteBufferSize(ioBuffer),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			// One connection: once it ended the agent is gone, and
			// calls fail rather than wait for another.
			if dialled.Swap(true) {
				return nil, ErrLost
			}
			return conn, nil
		}))
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &Client{cc: cc, rpc: agentv1.NewAgentClient(cc), conn: conn}
	c.Hello, err = c.rpc.Hello(ctx, &agentv1.HelloRequest{}, grpc.WaitForReady(true))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("the agent's handshake: %w", fromStatus(err))
	}
	return c, nil
}

// Close ends the connection, and so the agent.
func (c *Client) Close() error {
	err := c.cc.Close()
	c.conn.Close()
	return err
}

// Done is closed once the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.conn.done }

// fromStatus turns a call's error into one errors.Is understands: what the
// agent reported keeps its kind, a call cut off wraps ErrLost.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if st.Code() == codes.Unavailable {
		return fmt.Errorf("%w: %s", ErrLost, st.Message())
	}
	return fromCode(st.Code(), st.Message())
}

// Scope is the host a call is about, as the agent serves it: Name for
// errors, Root the host's root on the machine ("" for none), Sub the
// folder a Sub host is confined to, as the rooted host names it, and
// SubID the Sub host itself: the agent opens its folder on the first call
// and holds it until Release.
type Scope struct {
	Name, Root, Sub string
	SubID           uint64
}

func (s Scope) proto() *agentv1.Scope {
	return &agentv1.Scope{Name: s.Name, Root: s.Root, Sub: s.Sub, SubId: s.SubID}
}

// Release closes the folder the agent holds open for a Sub host.
func (c *Client) Release(ctx context.Context, s Scope) error {
	_, err := c.rpc.Release(ctx, s.proto())
	return fromStatus(err)
}

// Invoke runs the op called name on the machine (host.RunOp), giving
// progress the progress it reports while it runs.
func (c *Client) Invoke(ctx context.Context, s Scope, name string, req []byte, progress func(host.Progress)) ([]byte, error) {
	return c.invoke(ctx, &agentv1.InvokeRequest{Scope: s.proto(), Name: name, Request: req}, progress)
}

func (c *Client) invoke(ctx context.Context, r *agentv1.InvokeRequest, progress func(host.Progress)) ([]byte, error) {
	name := r.Name
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Invoke(ctx, r)
	if err != nil {
		return nil, fromStatus(err)
	}
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			return nil, fmt.Errorf("op %s: the agent ended the call without a response", name)
		}
		if err != nil {
			return nil, fromStatus(err)
		}
		switch r := m.Reply.(type) {
		case *agentv1.InvokeResponse_Progress:
			if progress == nil {
				continue
			}
			progress(host.Progress{Done: r.Progress.Done, Total: r.Progress.Total, Unit: r.Progress.Unit, Message: r.Progress.Message})
		case *agentv1.InvokeResponse_Response:
			return r.Response, nil
		}
	}
}

// Lstat is host.Host's Lstat on the machine, with owners and inodes.
func (c *Client) Lstat(ctx context.Context, s Scope, path string) (fs.FileInfo, error) {
	e, err := c.rpc.Lstat(ctx, &agentv1.PathRequest{Scope: s.proto(), Path: path})
	if err != nil {
		return nil, fromStatus(err)
	}
	return fileInfo(e), nil
}

// ReadDirStat is host.Host's ReadDirStat on the machine, with owners and
// inodes.
func (c *Client) ReadDirStat(ctx context.Context, s Scope, path string) ([]host.EntryStat, error) {
	return dirStat(c.rpc.ReadDirStat(ctx, &agentv1.PathRequest{Scope: s.proto(), Path: path}))
}

func dirStat(resp *agentv1.ReadDirStatResponse, err error) ([]host.EntryStat, error) {
	if err != nil {
		return nil, fromStatus(err)
	}
	entries := make([]host.EntryStat, len(resp.Entries))
	for i, e := range resp.Entries {
		entries[i] = entryStat(e)
	}
	if len(resp.Errors) > 0 {
		bad := make(host.EntryErrors, len(resp.Errors))
		for i, e := range resp.Errors {
			bad[i] = host.EntryError{Name: e.Name, Err: fromCode(codes.Code(e.Code), e.Message)}
		}
		return entries, bad
	}
	return entries, nil
}

func entryStat(e *agentv1.Entry) host.EntryStat {
	return host.EntryStat{Name: e.Name, Link: e.Link, Size: e.Size, MTime: e.Mtime, Dev: e.Dev, Ino: e.Ino, Blocks: e.Blocks,
		UID: e.Uid, GID: e.Gid, Nlink: e.Nlink, Mode: fs.FileMode(e.Mode), HasStat: e.HasStat}
}

// fileInfo is an Entry as an fs.FileInfo whose Sys is a *host.Stat, for
// host.StatOf.
func fileInfo(e *agentv1.Entry) fs.FileInfo { return info{entryStat(e)} }

type info struct{ e host.EntryStat }

func (i info) Name() string       { return i.e.Name }
func (i info) Size() int64        { return i.e.Size }
func (i info) Mode() fs.FileMode  { return i.e.Mode }
func (i info) ModTime() time.Time { return time.Unix(0, i.e.MTime) }
func (i info) IsDir() bool        { return i.e.Mode.IsDir() }
func (i info) Sys() any {
	if !i.e.HasStat {
		return nil
	}
	return &host.Stat{UID: int(i.e.UID), GID: int(i.e.GID), Dev: i.e.Dev, Ino: i.e.Ino, Nlink: uint64(i.e.Nlink), Blocks: i.e.Blocks}
}

// Sync makes every write to the file system holding path durable, on the
// machine (syncfs).
func (c *Client) Sync(ctx context.Context, s Scope, path string) error {
	_, err := c.rpc.Sync(ctx, &agentv1.PathRequest{Scope: s.proto(), Path: path})
	return fromStatus(err)
}

// PathOp is a request for one of the host's operations on paths (Chtimes,
// Chmod, MkdirAll, Remove, Rename, Symlink, Readlink, Link, Lchown).
type PathOp = agentv1.PathOpRequest

// Path operations, for PathOp's Op.
const (
	Chtimes  = agentv1.PathOpRequest_CHTIMES
	Chmod    = agentv1.PathOpRequest_CHMOD
	MkdirAll = agentv1.PathOpRequest_MKDIR_ALL
	Remove   = agentv1.PathOpRequest_REMOVE
	Rename   = agentv1.PathOpRequest_RENAME
	Symlink  = agentv1.PathOpRequest_SYMLINK
	Readlink = agentv1.PathOpRequest_READLINK
	Link     = agentv1.PathOpRequest_LINK
	Lchown   = agentv1.PathOpRequest_LCHOWN
)

// Do runs the path operation op on the machine, returning what Readlink
// read.
func (c *Client) Do(ctx context.Context, s Scope, op *PathOp) (string, error) {
	op.Scope = s.proto()
	resp, err := c.rpc.PathOp(ctx, op)
	if err != nil {
		return "", fromStatus(err)
	}
	return resp.Target, nil
}

// Reflink is host.Host's Reflink on the machine.
func (c *Client) Reflink(ctx context.Context, s Scope, src, dst string) error {
	_, err := c.rpc.Reflink(ctx, &agentv1.ReflinkRequest{Scope: s.proto(), Src: src, Dst: dst})
	return fromStatus(err)
}

// WriteFile is host.Host's WriteFile on the machine: temp file, fsync,
// rename and fsync of the folder there. r's data crosses compressed when
// its start compresses.
func (c *Client) WriteFile(ctx context.Context, s Scope, path string, r io.Reader, mode fs.FileMode) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	buf := make([]byte, 1<<20)
	n, rerr := io.ReadFull(r, buf)
	stream, err := c.rpc.WriteFile(ctx, dataCompression(buf[:n]))
	if err != nil {
		return fromStatus(err)
	}
	msg := &agentv1.WriteFileRequest{Scope: s.proto(), Path: path, Mode: uint32(mode), Data: buf[:n]}
	for {
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			// The agent gives the write up, its temp file removed, and
			// the call ends only then: nothing of it is left behind.
			msg.Data, msg.Abort = nil, rerr.Error()
			if err := stream.Send(msg); err == nil {
				stream.CloseAndRecv()
			}
			return rerr
		}
		if err := stream.Send(msg); err != nil {
			// The agent ended the call: its status says why.
			_, err = stream.CloseAndRecv()
			return fromStatus(err)
		}
		if rerr != nil {
			break
		}
		n, rerr = io.ReadFull(r, buf)
		if n == 0 && rerr == io.EOF {
			break
		}
		msg = &agentv1.WriteFileRequest{Data: buf[:n]}
	}
	_, err = stream.CloseAndRecv()
	return fromStatus(err)
}

// Watch is host.Host's Watch on the machine.
func (c *Client) Watch(ctx context.Context, s Scope, path string) (<-chan host.WatchEvent, error) {
	stream, err := c.rpc.Watch(ctx, &agentv1.PathRequest{Scope: s.proto(), Path: path})
	if err != nil {
		return nil, fromStatus(err)
	}
	// The first message is the watch set up, or why it could not be: a
	// header sent before any event.
	if _, err := stream.Header(); err != nil {
		return nil, fromStatus(err)
	}
	out := make(chan host.WatchEvent, 1024)
	go func() {
		defer close(out)
		for {
			m, err := stream.Recv()
			if err != nil {
				if ctx.Err() == nil && err != io.EOF {
					select {
					case out <- host.WatchEvent{Err: fromStatus(err)}:
					case <-ctx.Done():
					}
				}
				return
			}
			ev := host.WatchEvent{Path: m.Path, Overflow: m.Overflow}
			if m.Error != "" {
				ev.Err = errors.New(m.Error)
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Tripwire is host.Host's Tripwire on the machine.
func (c *Client) Tripwire(ctx context.Context, s Scope, path string) (host.Tripwire, error) {
	h, err := c.rpc.TripwireOpen(ctx, &agentv1.PathRequest{Scope: s.proto(), Path: path})
	if err != nil {
		return nil, fromStatus(err)
	}
	return &tripwire{c: c, scope: s, id: h.Id}, nil
}

type tripwire struct {
	c     *Client
	scope Scope
	id    uint64
	// tripped remembers a tripwire found tripped, or lost with the
	// connection: it stays tripped.
	tripped atomic.Bool
}

func (t *tripwire) ReadDirStat(ctx context.Context, path string) ([]host.EntryStat, error) {
	return dirStat(t.c.rpc.TripwireReadDirStat(ctx, &agentv1.HandlePathRequest{Id: t.id, Path: path}))
}

// Invoke runs the op called name on the machine as Client.Invoke does,
// on the tripwire's scope, with the tripwire at hand there
// (host.CallWatched): a walk through it is one call, not one per folder.
// The progress the op reports goes to ctx (host.ReportProgress).
func (t *tripwire) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	return t.c.invoke(ctx, &agentv1.InvokeRequest{Scope: t.scope.proto(), Name: name, Request: req, Tripwire: t.id},
		func(p host.Progress) { host.ReportProgress(ctx, p) })
}

// Tripped says true too when the agent cannot be asked: a tripwire that
// lost track is tripped.
func (t *tripwire) Tripped() bool {
	if t.tripped.Load() {
		return true
	}
	resp, err := t.c.rpc.TripwireTripped(context.Background(), &agentv1.Handle{Id: t.id})
	if err != nil || resp.Tripped {
		t.tripped.Store(true)
	}
	return t.tripped.Load()
}

func (t *tripwire) Close() error {
	_, err := t.c.rpc.TripwireClose(context.Background(), &agentv1.Handle{Id: t.id})
	if errors.Is(fromStatus(err), ErrLost) {
		// The agent closed it as it ended.
		return nil
	}
	return fromStatus(err)
}
