package host

import (
	"bytes"
	"context"
	"encoding"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// An op is work a provider does on the machine a host reaches, with that
// machine's own file system and kernel at hand: hashing the blocks of a
// drive where they lie instead of pulling every byte to the controller,
// adding an address with netlink. Providers register their ops from init
// (RegisterOp), so the same binary knows them whether it runs them here,
// for a local host, or as the agent a remote transport starts on the
// machine (RunOp). Requests and responses cross the wire gob-encoded, or
// as they encode themselves (see encode).
type op struct {
	local  func(ctx context.Context, h Host, req any) (any, error)
	remote func(ctx context.Context, h Host, req []byte, send func(resp []byte) error) error
	// bulk: its request or its response carries bulk data (Bulk).
	bulk bool
}

var ops struct {
	sync.Mutex
	byName map[string]op
}

// ErrNoOps is what Call returns for a host whose transport cannot run ops
// on its machine (an SSH host without the agent, on another OS or
// architecture): callers fall back to plain host operations, and say so.
var ErrNoOps = fmt.Errorf("the host's transport cannot run work on the machine itself: %w", errors.ErrUnsupported)

// Invoker is a Host whose transport runs ops on its machine: the remote
// agent. Invoke sends the encoded request of the op called name and
// returns its encoded response; the machine runs it with RunOp. The
// progress the op reports there is reported to ctx here (ReportProgress)
// while it runs. Invoke must not keep req once it returns: its buffer is
// reused.
type Invoker interface {
	Invoke(ctx context.Context, name string, req []byte) ([]byte, error)
}

// RegisterOp makes f the op called name, for Call to run on any host whose
// machine can run it. Names are "provider.what" and registered once (from
// an init function); a second registration of a name panics.
func RegisterOp[Req, Resp any](name string, f func(ctx context.Context, h Host, req Req) (Resp, error)) {
	ops.Lock()
	defer ops.Unlock()
	if ops.byName == nil {
		ops.byName = map[string]op{}
	}
	if _, ok := ops.byName[name]; ok {
		panic("host: op " + name + " registered twice")
	}
	ops.byName[name] = op{
		bulk: isBulk[Req]() || isBulk[Resp](),
		local: func(ctx context.Context, h Host, req any) (any, error) {
			return f(ctx, h, req.(Req))
		},
		remote: func(ctx context.Context, h Host, b []byte, send func([]byte) error) error {
			var req Req
			if err := decode(b, &req); err != nil {
				return fmt.Errorf("op %s: decoding the request: %w", name, err)
			}
			resp, err := f(ctx, h, req)
			if err != nil {
				return err
			}
			out, release, err := encode(name, resp, true)
			if err != nil {
				return err
			}
			defer release()
			if r, ok := any(resp).(BulkReleaser); ok {
				// The encoding holds a copy of the bulk data.
				r.ReleaseBulk()
			}
			return send(out)
		},
	}
}

func isBulk[T any]() bool {
	var v T
	_, ok := any(v).(Bulk)
	return ok
}

// BulkOp says whether the op called name carries bulk data (Bulk) in its
// request or its response: a transport may carry such ops its own way,
// one made for large messages.
func BulkOp(name string) bool {
	o, err := lookupOp(name)
	return err == nil && o.bulk
}

// Ops lists the names of the registered ops, sorted.
func Ops() []string {
	ops.Lock()
	defer ops.Unlock()
	names := make([]string, 0, len(ops.byName))
	for n := range ops.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func lookupOp(name string) (op, error) {
	ops.Lock()
	defer ops.Unlock()
	o, ok := ops.byName[name]
	if !ok {
		return op{}, fmt.Errorf("no op called %s in this program", name)
	}
	return o, nil
}

// Call runs the op called name with req on h's machine: in this process
// for a local host (rooted or not: the op gets h itself), through the
// transport for an Invoker. Any other host fails with ErrNoOps.
func Call[Req, Resp any](ctx context.Context, h Host, name string, req Req) (Resp, error) {
	var zero Resp
	o, err := lookupOp(name)
	if err != nil {
		return zero, err
	}
	switch t := h.(type) {
	case *local:
		resp, err := o.local(ctx, h, req)
		if err != nil {
			return zero, err
		}
		return resp.(Resp), nil
	case Invoker:
		b, release, err := encode(name, req, true)
		if err != nil {
			return zero, err
		}
		var resp Resp
		var out []byte
		// buf is the reused buffer the response is read into, if any.
		var buf *[]byte
		holder, held := any(&resp).(BulkHolder)
		if into, ok := t.(BufferInvoker); ok && held {
			buf = responses.Get().(*[]byte)
			out, err = into.InvokeInto(ctx, name, b, (*buf)[:0])
		} else {
			out, err = t.Invoke(ctx, name, b)
		}
		release()
		if err == nil {
			if err = decode(out, &resp); err != nil {
				err = fmt.Errorf("op %s on host %q: decoding the response: %w", name, h.Name(), err)
			}
		}
		switch {
		case err != nil && buf != nil:
			responses.Put(buf)
		case buf != nil:
			*buf = out
			holder.HoldBulk(func() { responses.Put(buf) })
		}
		if err != nil {
			return zero, err
		}
		return resp, nil
	}
	return zero, fmt.Errorf("host %q: op %s: %w", h.Name(), name, ErrNoOps)
}

// RunOp runs the op called name with an encoded request on h, a host of
// this machine, and returns the encoded response: what an agent does for
// its transport's Invoke (ServeOp). The request's bulk data (Bulk) is
// used where it lies in req: req must not change until the op's response
// is used.
func RunOp(ctx context.Context, h Host, name string, req []byte) ([]byte, error) {
	var out []byte
	err := ServeOp(ctx, h, name, req, func(resp []byte) error {
		out = bytes.Clone(resp)
		return nil
	})
	return out, err
}

// ServeOp is RunOp for an agent, which sends the response on: send is
// given the encoded response, whose buffer is reused once send returns
// (an agent would otherwise make and clear one for each batch of files).
// It returns the op's error, or send's.
func ServeOp(ctx context.Context, h Host, name string, req []byte, send func(resp []byte) error) error {
	o, err := lookupOp(name)
	if err != nil {
		return err
	}
	return o.remote(ctx, h, req, send)
}

// Progress is how far an op has got: what a long op (a drive copy) reports
// while it runs, for the caller to show.
type Progress struct {
	Done, Total int64
	// Unit names what Done and Total count, e.g. "bytes".
	Unit    string
	Message string
}

type progressKey struct{}

// WithProgress returns a context under which the progress an op reports
// (ReportProgress) is given to f, wherever the op runs: in this process
// for a local host, on the machine for an Invoker, whose transport brings
// it back. f may be called from several goroutines at once.
func WithProgress(ctx context.Context, f func(Progress)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

// ReportProgress gives p to the function ctx carries from WithProgress,
// if any. Ops report at most a few times a second: each report of a
// remote op crosses the network.
func ReportProgress(ctx context.Context, p Progress) {
	if f, ok := ctx.Value(progressKey{}).(func(Progress)); ok {
		f(p)
	}
}

// Bulk is an op's request or response that carries bulk data, such as
// the content of a batch of files: its slices cross the wire as they are,
// after the gob encoding of the rest of the value, rather than through
// gob, which copies each several times over on either end of the wire.
// The slices are fields gob leaves out (unexported ones); BulkData lists
// them, and SetBulkData (of its pointer, a BulkReceiver) puts them back in
// the value decoded, in the same order.
type Bulk interface {
	BulkData() [][]byte
}

// BulkReleaser is an op's Bulk response whose slices the op may reuse
// once they are encoded: ServeOp calls ReleaseBulk then, before sending
// the response. Call never does for a host of this machine, whose caller
// gets the slices themselves.
type BulkReleaser interface {
	Bulk
	ReleaseBulk()
}

// BulkReceiver is the pointer of a Bulk type. The slices it is given lie
// in the buffer the value was decoded from, each capped at its length.
type BulkReceiver interface {
	SetBulkData(data [][]byte) error
}

// BulkHolder is a BulkReceiver whose slices may lie in a buffer that
// Call reuses (see BufferInvoker): Call gives it the function that gives
// the buffer back, for its ReleaseBulk to call once nothing uses the
// slices any more. Without that call the buffer is left to the collector.
type BulkHolder interface {
	BulkReceiver
	HoldBulk(release func())
}

// BufferInvoker is an Invoker that can read a response into a buffer of
// the caller's: InvokeInto returns buf (grown if need be), or a slice of
// its own. Call reuses the buffers of responses that are BulkHolders,
// where a new one for each batch of files would be made, cleared and
// collected.
type BufferInvoker interface {
	InvokeInto(ctx context.Context, name string, req, buf []byte) ([]byte, error)
}

// responses are the buffers of BulkHolder responses, reused.
var responses = sync.Pool{New: func() any { return new([]byte) }}

// encoded are the buffers of requests encoded for an Invoker and of
// responses an agent sends (ServeOp), reused: a batch of files would
// otherwise make and clear megabytes for each call.
var encoded = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encode encodes v, followed, for a Bulk, by the number of slices, their
// lengths and their bytes. A value that encodes itself (an
// encoding.BinaryAppender whose pointer is an encoding.BinaryUnmarshaler)
// is its encoding after 8 bytes of its length; any other is gob. Ops called
// for every batch of files encode themselves: gob compiles its coders anew
// for each call, at both ends, and reflects over every field of every
// entry, which cost as much as reading the batch's files. With pooled,
// the buffer comes from encoded and release gives it back: nothing may use
// the bytes after.
func encode(name string, v any, pooled bool) (b []byte, release func(), err error) {
	buf := new(bytes.Buffer)
	release = func() {}
	if pooled {
		buf = encoded.Get().(*bytes.Buffer)
		buf.Reset()
		release = func() { encoded.Put(buf) }
	}
	if self, ok := v.(encoding.BinaryAppender); ok {
		var length [8]byte
		buf.Write(length[:])
		b, err = self.AppendBinary(buf.AvailableBuffer())
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("op %s: encoding: %w", name, err)
		}
		buf.Write(b)
		binary.BigEndian.PutUint64(buf.Bytes(), uint64(len(b)))
	} else if err := gob.NewEncoder(buf).Encode(v); err != nil {
		release()
		return nil, nil, fmt.Errorf("op %s: encoding: %w", name, err)
	}
	bulk, ok := v.(Bulk)
	if !ok {
		return buf.Bytes(), release, nil
	}
	data := bulk.BulkData()
	size := binary.MaxVarintLen64 * (1 + len(data))
	for _, d := range data {
		size += len(d)
	}
	buf.Grow(size)
	b = binary.AppendUvarint(buf.Bytes(), uint64(len(data)))
	for _, d := range data {
		b = binary.AppendUvarint(b, uint64(len(d)))
	}
	for _, d := range data {
		b = append(b, d...)
	}
	return b, release, nil
}

// decode decodes what encode encoded into v, a pointer; a BulkReceiver's
// slices are those of b, not copies.
func decode(b []byte, v any) error {
	var rest []byte
	if self, ok := v.(encoding.BinaryUnmarshaler); ok {
		if len(b) < 8 {
			return errors.New("the message's length is cut short")
		}
		n := binary.BigEndian.Uint64(b)
		if n > uint64(len(b)-8) {
			return fmt.Errorf("a message of %d bytes in %d", n, len(b)-8)
		}
		if err := self.UnmarshalBinary(b[8 : 8+n]); err != nil {
			return err
		}
		rest = b[8+n:]
	} else {
		r := bytes.NewReader(b)
		// A bytes.Reader is an io.ByteReader: gob reads no further than
		// its messages, and the bulk data starts where it stopped.
		if err := gob.NewDecoder(r).Decode(v); err != nil {
			return err
		}
		rest = b[len(b)-r.Len():]
	}
	recv, ok := v.(BulkReceiver)
	if !ok {
		return nil
	}
	next := func() (uint64, error) {
		n, k := binary.Uvarint(rest)
		if k <= 0 {
			return 0, errors.New("the bulk data's lengths are cut short")
		}
		rest = rest[k:]
		return n, nil
	}
	count, err := next()
	if err != nil {
		return err
	}
	if count > uint64(len(rest)) {
		return fmt.Errorf("%d slices of bulk data in %d bytes", count, len(rest))
	}
	lens := make([]uint64, count)
	for i := range lens {
		if lens[i], err = next(); err != nil {
			return err
		}
	}
	data := make([][]byte, count)
	for i, n := range lens {
		if n > uint64(len(rest)) {
			return fmt.Errorf("bulk data %d of %d bytes, with %d left", i, n, len(rest))
		}
		data[i] = rest[:n:n]
		rest = rest[n:]
	}
	if len(rest) > 0 {
		return fmt.Errorf("%d bytes after the bulk data", len(rest))
	}
	return recv.SetBulkData(data)
}

func init() {
	RegisterOp("host.ping", func(ctx context.Context, h Host, req struct{ Ping bool }) (struct{ Pong bool }, error) {
		return struct{ Pong bool }{req.Ping}, nil
	})
}

// CanCall says whether Call can run ops on h's machine: nil if so, else
// why not (wrapping ErrNoOps), for a plan to tell how the work will be
// done (hashing on this machine, every byte through the transport).
func CanCall(ctx context.Context, h Host) error {
	_, err := Call[struct{ Ping bool }, struct{ Pong bool }](ctx, h, "host.ping", struct{ Ping bool }{true})
	return err
}
