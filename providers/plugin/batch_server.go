package plugin

import (
	"sync"
	"sync/atomic"

	"github.com/drover-dr/drover/providers"
	pb "github.com/drover-dr/drover/providers/proto/v1"
)

// fanOut runs call for each index of a batch and returns when all are
// done. A few workers take indexes in turn (a batch costs a few goroutines,
// not one per call), and every call holds one of the provider's slots, so
// concurrent batches together run at most the configured parallelism.
func (s *server) fanOut(n int, call func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(cap(s.slots), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				s.slots <- struct{}{}
				call(i)
				<-s.slots
			}
		}()
	}
	wg.Wait()
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

func (s *server) ReadBatch(req *pb.ReadBatch_Request, stream pb.Provider_ReadBatchServer) error {
	out := &sender[*pb.ReadBatch_Result]{send: stream.Send}
	s.fanOut(len(req.Calls), func(i int) {
		out.Send(&pb.ReadBatch_Result{Index: int32(i), Response: s.read(stream.Context(), req.Calls[i])})
	})
	return out.err
}

func (s *server) PlanBatch(req *pb.PlanBatch_Request, stream pb.Provider_PlanBatchServer) error {
	out := &sender[*pb.PlanBatch_Result]{send: stream.Send}
	s.fanOut(len(req.Calls), func(i int) {
		out.Send(&pb.PlanBatch_Result{Index: int32(i), Response: s.plan(stream.Context(), req.Calls[i])})
	})
	return out.err
}

func (s *server) ApplyBatch(req *pb.ApplyBatch_Request, stream pb.Provider_ApplyBatchServer) error {
	out := &sender[*pb.ApplyBatch_Event]{send: stream.Send}
	s.fanOut(len(req.Calls), func(i int) {
		send, stop := progressSender(func(p providers.Progress) error {
			out.Send(&pb.ApplyBatch_Event{Index: int32(i), Event: &pb.Apply_Event{Event: &pb.Apply_Event_Progress{Progress: encodeProgress(p)}}})
			return nil
		})
		resp := s.apply(stream.Context(), req.Calls[i], send)
		stop()
		out.Send(&pb.ApplyBatch_Event{Index: int32(i), Event: &pb.Apply_Event{Event: &pb.Apply_Event_Result{Result: resp}}})
	})
	return out.err
}
