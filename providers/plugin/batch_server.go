package plugin

import (
	"sync"

	"github.com/drover-dr/drover/providers"
	pb "github.com/drover-dr/drover/providers/proto/v1"
)

// fanOut runs call for each index of a batch, at most the configured
// parallelism at once, and returns when all are done.
func (s *server) fanOut(n int, call func(i int)) {
	slots := s.slots
	if slots == nil {
		slots = make(chan struct{}, defaultParallelism)
	}
	var wg sync.WaitGroup
	for i := range n {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			call(i)
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
