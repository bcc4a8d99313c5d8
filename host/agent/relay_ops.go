package agent

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"

	"google.golang.org/grpc/codes"

	"github.com/drover-dr/drover/host"
	agentv1 "github.com/drover-dr/drover/host/agent/proto/v1"
	"github.com/drover-dr/drover/internal/wire"
)

// Ops that carry bulk data (a batch of files' content: host.BulkOp) cross
// a relay connection too, one call after another on the same connection,
// rather than the gRPC stream: there each batch went through HTTP/2
// frames and protobuf, copied several times over at both ends and in the
// controller, and a new buffer was made and collected for every message.
// On the relay an agent reads a call into a buffer it reuses and answers
// from the op's own.
//
// After its relayRequest (relayInvoke, no file), the connection carries
// calls: each a length (4 bytes, big-endian) and that many bytes (the
// scope, the op's name, its encoded request; opCall). The agent answers
// each with statuses (relayStatus): any number of relayProgress, each
// followed by its report, then relayOK with the response's length and the
// response, or relayFailed with the op's error. The controller sends the
// next call only once it has the answer; it cancels a call by closing the
// connection, which the agent sees while the op runs and cancels the op.

// maxCall bounds a call and a response on the relay: batches hold a few
// MiB.
const maxCall = 256 << 20

// serveOps serves the calls of c until the controller ends it (or ends a
// call midway, which cancels the op).
func (s *server) serveOps(c net.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := bufio.NewReaderSize(c, 64<<10)
	var buf []byte
	for {
		var head [4]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(head[:])
		if n > maxCall {
			writeStatus(c, relayFailed, 0, fmt.Errorf("an op call of %d bytes, more than %d", n, maxCall))
			return
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		// The controller sends nothing more until it has the answer:
		// what ends the wait before is its end of the connection.
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			if _, err := r.Peek(1); err != nil {
				cancel()
			}
		}()
		if err := s.serveCall(ctx, c, buf); err != nil {
			return
		}
		<-watched
		if ctx.Err() != nil {
			return
		}
	}
}

// serveCall runs the op call b asks for and answers it on c; an error
// is one of c's.
func (s *server) serveCall(ctx context.Context, c net.Conn, b []byte) error {
	call, err := parseCall(b)
	var h host.Host
	if err == nil {
		h, err = s.host(ctx, &agentv1.Scope{Name: call.scope.Name, Root: call.scope.Root, Sub: call.scope.Sub, SubId: call.scope.SubID})
	}
	if err != nil {
		return writeStatus(c, relayFailed, 0, err)
	}
	// As for the stream: reports may come from several goroutines, and
	// after the op returned.
	var mu sync.Mutex
	ended := false
	var cerr error
	ctx = host.WithProgress(ctx, func(p host.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if !ended && cerr == nil {
			cerr = writeFramed(c, relayProgress, appendProgress(nil, p))
		}
	})
	end := func() error {
		mu.Lock()
		defer mu.Unlock()
		ended = true
		return cerr
	}
	sent := false
	err = host.ServeOp(ctx, h, call.name, call.req, func(out []byte) error {
		if err := end(); err != nil {
			return err
		}
		sent = true
		return writeFramed(c, relayOK, out)
	})
	if cerr := end(); cerr != nil {
		return cerr
	}
	if sent {
		return err
	}
	return writeStatus(c, relayFailed, 0, err)
}

// writeFramed writes a status of kind with the length of b, then b.
func writeFramed(c net.Conn, kind uint8, b []byte) error {
	var head [17]byte
	head[0] = kind
	binary.BigEndian.PutUint64(head[5:], uint64(len(b)))
	bufs := net.Buffers{head[:], b}
	_, err := bufs.WriteTo(c)
	return err
}

// opCall is a call as it crosses: the scope, the op's name and the
// encoded request.
type opCall struct {
	scope Scope
	name  string
	req   []byte
}

func (oc opCall) append(b []byte) []byte {
	for _, s := range []string{oc.scope.Name, oc.scope.Root, oc.scope.Sub, oc.name} {
		b = wire.AppendString(b, s)
	}
	b = binary.AppendUvarint(b, oc.scope.SubID)
	return append(b, oc.req...)
}

// parseCall parses what append made; the request is b's own bytes.
func parseCall(b []byte) (opCall, error) {
	var oc opCall
	d := wire.NewDecoder(b)
	oc.scope.Name, oc.scope.Root, oc.scope.Sub, oc.name = d.String(), d.String(), d.String(), d.String()
	oc.scope.SubID = d.Uvarint()
	var err error
	if oc.req, err = d.Rest(); err != nil {
		return opCall{}, fmt.Errorf("an op call: %w", err)
	}
	return oc, nil
}

func appendProgress(b []byte, p host.Progress) []byte {
	b = binary.AppendVarint(b, p.Done)
	b = binary.AppendVarint(b, p.Total)
	return wire.AppendString(wire.AppendString(b, p.Unit), p.Message)
}

func parseProgress(b []byte) (host.Progress, error) {
	d := wire.NewDecoder(b)
	p := host.Progress{Done: d.Varint(), Total: d.Varint(), Unit: d.String(), Message: d.String()}
	return p, d.End()
}

// Ops is a relay connection that carries op calls (OpenOps): one at a
// time, in turn.
type Ops struct {
	c    io.ReadWriter
	r    *bufio.Reader
	call []byte
}

// OpenOps makes c, a new connection to the relay socket of the agent
// (Client.Relays), carry op calls.
func OpenOps(c io.ReadWriter) (*Ops, error) {
	if err := writeRequest(c, relayInvoke, 0, 0, 0); err != nil {
		return nil, err
	}
	return &Ops{c: c, r: bufio.NewReaderSize(c, 64<<10)}, nil
}

// Invoke is Client.Invoke on the relay connection, reading the response
// into buf (grown if need be). A call cut off (the
// connection closed, as the caller does to cancel it) fails with ErrLost;
// the connection can carry no more calls then.
func (o *Ops) Invoke(s Scope, name string, req, buf []byte, progress func(host.Progress)) ([]byte, error) {
	o.call = opCall{scope: s, name: name}.append(append(o.call[:0], 0, 0, 0, 0))
	if len(o.call)-4+len(req) > maxCall {
		return nil, fmt.Errorf("op %s: a request of %d bytes, more than %d", name, len(req), maxCall)
	}
	binary.BigEndian.PutUint32(o.call, uint32(len(o.call)-4+len(req)))
	if _, err := o.c.Write(o.call); err != nil {
		return nil, relayLost(err)
	}
	if _, err := o.c.Write(req); err != nil {
		return nil, relayLost(err)
	}
	for {
		var st relayStatus
		if err := binary.Read(o.r, binary.BigEndian, &st); err != nil {
			return nil, relayLost(err)
		}
		switch st.Kind {
		case relayOK, relayProgress:
			if st.Written < 0 || st.Written > maxCall {
				return nil, relayLost(fmt.Errorf("an answer of %d bytes", st.Written))
			}
			out := slices.Grow(buf[:0], int(st.Written))[:st.Written]
			if _, err := io.ReadFull(o.r, out); err != nil {
				return nil, relayLost(err)
			}
			if st.Kind == relayOK {
				return out, nil
			}
			p, err := parseProgress(out)
			if err != nil {
				return nil, relayLost(fmt.Errorf("a progress report: %w", err))
			}
			if progress != nil {
				progress(p)
			}
		default:
			msg := make([]byte, min(st.Len, 64<<10))
			if _, err := io.ReadFull(o.r, msg); err != nil {
				return nil, relayLost(err)
			}
			return nil, fromCode(codes.Code(st.Code), string(msg))
		}
	}
}
