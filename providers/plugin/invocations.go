package plugin

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/drover-dr/drover/providers"
	pb "github.com/drover-dr/drover/providers/proto/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Invokes travel on one Invocations stream per plugin connection, each
// call a message each way: a stream per call (the Invoke RPC) cost its
// own HTTP/2 stream, headers and trailers each way, and a handler
// goroutine, for every runbook step.

// invocations is the client side: it opens the stream at the first call,
// and again after the stream broke (failing the calls it carried).
type invocations struct {
	rpc pb.ProviderClient

	mu     sync.Mutex
	stream *invocationStream // nil before the first call and after a break
	next   uint64
	calls  map[uint64]*invocation
	// unsupported says the plugin has no Invocations (one built before
	// it): calls go by Invoke RPCs.
	unsupported bool
}

// invocationStream is an open stream. Its requests go out in order
// through a queue, so that a caller never waits for a send: a send waits
// while the plugin reads nothing (flow control), and a caller must still
// return when its context ends, as a step past its timeout.
type invocationStream struct {
	pb.Provider_InvocationsClient
	cancel context.CancelFunc

	mu    sync.Mutex
	queue []*pb.Invocations_Request
	wake  chan struct{} // signalled when queue grows
}

// send queues req.
func (s *invocationStream) send(req *pb.Invocations_Request) {
	s.mu.Lock()
	s.queue = append(s.queue, req)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sender sends what is queued until ctx, the stream's, ends. A failed
// send means the stream broke, which its receiver reports to every call
// on it.
func (s *invocationStream) sender(ctx context.Context) {
	for {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		}
		s.mu.Lock()
		queue := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, req := range queue {
			if s.Send(req) != nil {
				break
			}
		}
	}
}

// invocation is a call waiting for its result. Its progress is reported
// under mu, and never once the caller gave up (gone).
type invocation struct {
	progress func(providers.Progress)
	done     chan answer[*pb.Invoke_Response]

	mu   sync.Mutex
	gone bool
}

func (inv *invocation) report(p providers.Progress) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if !inv.gone && inv.progress != nil {
		inv.progress(p)
	}
}

// errNoInvocations says the plugin does not serve Invocations.
var errNoInvocations = errors.New("the provider serves no Invocations")

// do runs req on the stream and returns its result, or ctx's error as
// soon as ctx ends: that invocation, and no other, is then ended on the
// provider side.
func (m *invocations) do(ctx context.Context, req *pb.Invoke_Request, progress func(providers.Progress)) (*pb.Invoke_Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.unsupported {
		m.mu.Unlock()
		return nil, errNoInvocations
	}
	s, err := m.open()
	if err != nil {
		m.mu.Unlock()
		return nil, err
	}
	m.next++
	id := m.next
	inv := &invocation{progress: progress, done: make(chan answer[*pb.Invoke_Response], 1)}
	m.calls[id] = inv
	m.mu.Unlock()

	s.send(&pb.Invocations_Request{Id: id, Invoke: req})
	select {
	case a := <-inv.done:
		return a.resp, a.err
	case <-ctx.Done():
		m.mu.Lock()
		delete(m.calls, id)
		m.mu.Unlock()
		inv.mu.Lock()
		inv.gone = true
		inv.mu.Unlock()
		s.send(&pb.Invocations_Request{Id: id})
		return nil, ctx.Err()
	}
}

// open returns the stream, opening it if need be; m.mu is held.
func (m *invocations) open() (*invocationStream, error) {
	if m.stream != nil {
		return m.stream, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs, err := m.rpc.Invocations(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	s := &invocationStream{Provider_InvocationsClient: rs, cancel: cancel, wake: make(chan struct{}, 1)}
	m.stream, m.calls = s, map[uint64]*invocation{}
	go s.sender(ctx)
	go m.receive(s)
	return s, nil
}

// receive hands each event of s to its call until s breaks, then fails
// the calls left on it.
func (m *invocations) receive(s *invocationStream) {
	for {
		ev, err := s.Recv()
		if err != nil {
			m.broke(s, err)
			return
		}
		m.mu.Lock()
		inv := m.calls[ev.Id]
		m.mu.Unlock()
		if inv == nil || ev.Event == nil {
			continue
		}
		switch e := ev.Event.Event.(type) {
		case *pb.Invoke_Event_Progress:
			if e.Progress != nil {
				inv.report(decodeProgress(e.Progress))
			}
		case *pb.Invoke_Event_Result:
			m.mu.Lock()
			delete(m.calls, ev.Id)
			m.mu.Unlock()
			if e.Result == nil {
				inv.done <- answer[*pb.Invoke_Response]{err: garbageError{errors.New("empty result")}}
				continue
			}
			inv.done <- answer[*pb.Invoke_Response]{resp: e.Result}
		}
	}
}

// broke fails every call on s, which ended with err; the next call opens
// a new stream.
func (m *invocations) broke(s *invocationStream, err error) {
	s.cancel()
	if err == io.EOF {
		err = errors.New("the provider ended the stream of invocations")
	}
	m.mu.Lock()
	calls := m.calls
	if m.stream == s {
		m.stream, m.calls = nil, nil
	}
	if status.Code(err) == codes.Unimplemented {
		m.unsupported = true
		err = errNoInvocations
	}
	m.mu.Unlock()
	for _, inv := range calls {
		inv.done <- answer[*pb.Invoke_Response]{err: err}
	}
}

// Invocations serves the invocations of one stream, each on a goroutine
// with a context of its own, counted in flight as a call of its own: an
// ending plugin refuses new ones and lets those running finish. The
// stream's end ends those still running.
func (s *server) Invocations(stream pb.Provider_InvocationsServer) error {
	out := &sender[*pb.Invocations_Event]{send: stream.Send}
	var mu sync.Mutex
	running := map[uint64]context.CancelFunc{}
	var wg sync.WaitGroup
	defer wg.Wait()
	// Calls run on workers that outlive them: a goroutine of its own for
	// each call started with a small stack and grew it every time (a
	// call goes deep: the SDK's checks, the provider, a command's start),
	// 4% of the core plugin's CPU in a runbook of `true` steps. A call
	// goes to an idle worker, or to a new one when none is; workers end
	// with the stream, so there are never more than calls ran at once.
	calls := make(chan func())
	defer close(calls)
	for {
		req, err := stream.Recv()
		if err != nil {
			// Drover closing its side (io.EOF) still waits for the
			// answers; a stream that broke has no one to answer to.
			if err != io.EOF {
				mu.Lock()
				for _, cancel := range running {
					cancel()
				}
				mu.Unlock()
			}
			return nil
		}
		id := req.Id
		if req.Invoke == nil {
			mu.Lock()
			if cancel := running[id]; cancel != nil {
				cancel()
			}
			mu.Unlock()
			continue
		}
		if !s.calls.begin() {
			out.Send(&pb.Invocations_Event{Id: id, Event: &pb.Invoke_Event{Event: &pb.Invoke_Event_Result{Result: &pb.Invoke_Response{
				Diagnostics: []*pb.Diagnostic{{Severity: pb.Diagnostic_ERROR, Summary: "Provider is ending",
					Detail: "The provider process is ending and took no new call; nothing was done."}}}}}})
			continue
		}
		ctx, cancel := context.WithCancel(stream.Context())
		mu.Lock()
		running[id] = cancel
		mu.Unlock()
		wg.Add(1)
		call := func() {
			defer wg.Done()
			defer s.calls.done()
			resp := s.invoke(ctx, req.Invoke, func(ev *pb.Invoke_Event) error {
				out.Send(&pb.Invocations_Event{Id: id, Event: ev})
				return nil
			})
			mu.Lock()
			delete(running, id)
			mu.Unlock()
			cancel()
			out.Send(&pb.Invocations_Event{Id: id, Event: &pb.Invoke_Event{Event: &pb.Invoke_Event_Result{Result: resp}}})
		}
		select {
		case calls <- call:
		default:
			go func() {
				call()
				for call := range calls {
					call()
				}
			}()
		}
	}
}
