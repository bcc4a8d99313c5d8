package plugin

import (
	"context"
	"io"
	"slices"
	"sync"
)

// Calls of one kind made while others are on the wire are sent together:
// at most maxInFlight batch requests travel at once, each carrying up to
// maxBatch calls. A lone call goes out at once, so nothing waits for a
// batch to fill.
const (
	maxInFlight = 4
	maxBatch    = 512
)

// batcher coalesces concurrent calls into batch requests.
type batcher[Req, Resp any] struct {
	// send makes one batch request. Once the calls are on the wire it
	// hands opened the function that ends the call at an index (and no
	// other) on the provider side; it hands each answer to deliver as it
	// arrives. Calls left without an answer get fail(err).
	send func(reqs []Req, opened func(cancel func(i int)), deliver func(i int, r Resp)) error
	fail func(err error) Resp

	mu       sync.Mutex
	queue    []*batchCall[Req, Resp]
	inFlight int
}

type batchCall[Req, Resp any] struct {
	req  Req
	done chan Resp

	// Guarded by the batcher's mu. cancel and index are set once the
	// call's batch is on the wire; gaveUp once its caller stopped
	// waiting, so that a batch opened after that ends the call at once.
	cancel func(i int)
	index  int
	gaveUp bool
}

// do queues req and returns its answer, or fail(ctx.Err()) when ctx ends
// first: the call is then taken out of the queue, or ended on the
// provider side, and its answer, if one comes, dropped.
func (b *batcher[Req, Resp]) do(ctx context.Context, req Req) Resp {
	c := &batchCall[Req, Resp]{req: req, done: make(chan Resp, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.inFlight < maxInFlight {
		b.inFlight++
		go b.run()
	}
	b.mu.Unlock()
	select {
	case r := <-c.done:
		return r
	case <-ctx.Done():
		b.giveUp(c)
		return b.fail(ctx.Err())
	}
}

// giveUp ends c, whose caller no longer waits: a call still queued is
// never sent; one on the wire is cancelled alone (Stop would end every
// call in flight on the provider, e.g. every runbook step beside one
// that timed out).
func (b *batcher[Req, Resp]) giveUp(c *batchCall[Req, Resp]) {
	b.mu.Lock()
	if i := slices.Index(b.queue, c); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
		b.mu.Unlock()
		return
	}
	c.gaveUp = true
	cancel, i := c.cancel, c.index
	b.mu.Unlock()
	if cancel != nil {
		// The send waits while the plugin reads nothing (a frozen
		// process); the caller does not.
		go cancel(i)
	}
}

// run sends what is queued, batch after batch, until the queue is empty.
func (b *batcher[Req, Resp]) run() {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.inFlight--
			b.mu.Unlock()
			return
		}
		n := min(len(b.queue), maxBatch)
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()

		reqs := make([]Req, n)
		for i, c := range batch {
			reqs[i] = c.req
		}
		opened := func(cancel func(int)) {
			var gaveUp []int
			b.mu.Lock()
			for i, c := range batch {
				c.cancel, c.index = cancel, i
				if c.gaveUp {
					gaveUp = append(gaveUp, i)
				}
			}
			b.mu.Unlock()
			for _, i := range gaveUp {
				cancel(i)
			}
		}
		answered := make([]bool, n)
		err := b.send(reqs, opened, func(i int, r Resp) {
			if i >= 0 && i < n && !answered[i] {
				answered[i] = true
				batch[i].done <- r
			}
		})
		for i, c := range batch {
			if !answered[i] {
				c.done <- b.fail(err)
			}
		}
	}
}

// batchStream is the client side of a batch RPC.
type batchStream[Q, R any] interface {
	Send(Q) error
	Recv() (R, error)
}

// openBatch sends calls, the first request of a batch stream, and returns
// the function that asks the provider to end the call at an index: a
// request of that index alone (cancel makes it).
func openBatch[Q, R any](s batchStream[Q, R], calls Q, cancel func(i int32) Q) (func(int), error) {
	// A stream the provider already ended fails Send with io.EOF; Recv
	// then gives the reason.
	if err := s.Send(calls); err != nil && err != io.EOF {
		return nil, err
	}
	var mu sync.Mutex // gRPC allows one sender at a time
	return func(i int) {
		mu.Lock()
		defer mu.Unlock()
		// An error means the batch has ended, and the call with it.
		_ = s.Send(cancel(int32(i)))
	}, nil
}
