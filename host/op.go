package host

import (
	"bytes"
	"context"
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
// machine (RunOp). Requests and responses cross the wire gob-encoded.
type op struct {
	local  func(ctx context.Context, h Host, req any) (any, error)
	remote func(ctx context.Context, h Host, req []byte) ([]byte, error)
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
// agent. Invoke sends the gob-encoded request of the op called name and
// returns its gob-encoded response; the machine runs it with RunOp. The
// progress the op reports there is reported to ctx here (ReportProgress)
// while it runs.
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
		local: func(ctx context.Context, h Host, req any) (any, error) {
			return f(ctx, h, req.(Req))
		},
		remote: func(ctx context.Context, h Host, b []byte) ([]byte, error) {
			var req Req
			if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&req); err != nil {
				return nil, fmt.Errorf("op %s: decoding the request: %w", name, err)
			}
			resp, err := f(ctx, h, req)
			if err != nil {
				return nil, err
			}
			return encode(name, resp)
		},
	}
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
		b, err := encode(name, req)
		if err != nil {
			return zero, err
		}
		out, err := t.Invoke(ctx, name, b)
		if err != nil {
			return zero, err
		}
		var resp Resp
		if err := gob.NewDecoder(bytes.NewReader(out)).Decode(&resp); err != nil {
			return zero, fmt.Errorf("op %s on host %q: decoding the response: %w", name, h.Name(), err)
		}
		return resp, nil
	}
	return zero, fmt.Errorf("host %q: op %s: %w", h.Name(), name, ErrNoOps)
}

// RunOp runs the op called name with a gob-encoded request on h, a host
// of this machine, and returns the gob-encoded response: what an agent
// does for its transport's Invoke.
func RunOp(ctx context.Context, h Host, name string, req []byte) ([]byte, error) {
	o, err := lookupOp(name)
	if err != nil {
		return nil, err
	}
	return o.remote(ctx, h, req)
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

func encode(name string, v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, fmt.Errorf("op %s: encoding: %w", name, err)
	}
	return buf.Bytes(), nil
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
