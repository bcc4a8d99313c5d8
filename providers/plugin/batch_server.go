package plugin

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/drover-dr/drover/providers"
	pb "github.com/drover-dr/drover/providers/proto/v1"
)

// fanOut runs call for each index of a batch, with the context of that
// call, and returns when all are done. A few workers take indexes in turn
// (a batch costs a few goroutines, not one per call), and every call holds
// one of the provider's slots, so concurrent batches together run at most
// the configured parallelism.
func (s *server) fanOut(ctxs []context.Context, call func(ctx context.Context, i int)) {
	n := len(ctxs)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(cap(s.slots), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				s.slots <- struct{}{}
				call(ctxs[i], i)
				<-s.slots
			}
		}()
	}
	wg.Wait()
}

// callContexts gives each of the n calls of a batch a context of its own,
// ended when the client names the call in a later request of the stream
// (recv gives the indexes of one), so that a caller giving up ends its
// call alone. release ends them all once the batch is answered.
func callContexts(stream context.Context, n int, recv func() ([]int32, error)) (ctxs []context.Context, release func()) {
	ctxs = make([]context.Context, n)
	cancels := make([]context.CancelFunc, n)
	for i := range ctxs {
		ctxs[i], cancels[i] = context.WithCancel(stream)
	}
	// The reader ends with the stream: gRPC ends a stream's receives
	// when its handler returns.
	go func() {
		for {
			idx, err := recv()
			if err != nil {
				return
			}
			for _, i := range idx {
				if i >= 0 && int(i) < n {
					cancels[i]()
				}
			}
		}
	}()
	return ctxs, func() {
		for _, cancel := range cancels {
			cancel()
		}
	}
}

// ended is the answer of a call ended before it started: it is not run.
func ended(call string) []*pb.Diagnostic {
	return []*pb.Diagnostic{{Severity: pb.Diagnostic_ERROR, Summary: "Call cancelled",
		Detail: call + " was cancelled before it started; nothing was done."}}
}

// sender serialises sends on one stream; gRPC allows one sender at a time.
type sender[T any] struct {
	mu   sync.Mutex
	send func(T) error
	err  error
}

func (s *sender[T]) Send(m T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = s.send(m)
	}
}

func (s *server) ReadBatch(stream pb.Provider_ReadBatchServer) error {
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	ctxs, release := callContexts(stream.Context(), len(req.Calls), func() ([]int32, error) {
		m, err := stream.Recv()
		return m.GetCancel(), err
	})
	defer release()
	out := &sender[*pb.ReadBatch_Result]{send: stream.Send}
	s.fanOut(ctxs, func(ctx context.Context, i int) {
		resp := &pb.Read_Response{Diagnostics: ended("Read")}
		if ctx.Err() == nil {
			resp = s.read(ctx, req.Calls[i])
		}
		out.Send(&pb.ReadBatch_Result{Index: int32(i), Response: resp})
	})
	return out.err
}

func (s *server) PlanBatch(stream pb.Provider_PlanBatchServer) error {
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	ctxs, release := callContexts(stream.Context(), len(req.Calls), func() ([]int32, error) {
		m, err := stream.Recv()
		return m.GetCancel(), err
	})
	defer release()
	out := &sender[*pb.PlanBatch_Result]{send: stream.Send}
	s.fanOut(ctxs, func(ctx context.Context, i int) {
		resp := &pb.Plan_Response{Diagnostics: ended("Plan")}
		if ctx.Err() == nil {
			resp = s.plan(ctx, req.Calls[i])
		}
		out.Send(&pb.PlanBatch_Result{Index: int32(i), Response: resp})
	})
	return out.err
}

func (s *server) ApplyBatch(stream pb.Provider_ApplyBatchServer) error {
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	ctxs, release := callContexts(stream.Context(), len(req.Calls), func() ([]int32, error) {
		m, err := stream.Recv()
		return m.GetCancel(), err
	})
	defer release()
	out := &sender[*pb.ApplyBatch_Event]{send: stream.Send}
	s.fanOut(ctxs, func(ctx context.Context, i int) {
		resp := &pb.Apply_Response{Diagnostics: ended("Apply")}
		if ctx.Err() == nil {
			send, stop := progressSender(func(p providers.Progress) error {
				out.Send(&pb.ApplyBatch_Event{Index: int32(i), Event: &pb.Apply_Event{Event: &pb.Apply_Event_Progress{Progress: encodeProgress(p)}}})
				return nil
			})
			resp = s.apply(ctx, req.Calls[i], send)
			stop()
		}
		out.Send(&pb.ApplyBatch_Event{Index: int32(i), Event: &pb.Apply_Event{Event: &pb.Apply_Event_Result{Result: resp}}})
	})
	return out.err
}
