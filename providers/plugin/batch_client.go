package plugin

import (
	"context"
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
	// send makes one batch request and hands each answer to deliver as it
	// arrives; calls left without an answer get fail(err).
	send func(reqs []Req, deliver func(i int, r Resp)) error
	fail func(err error) Resp

	mu       sync.Mutex
	queue    []*batchCall[Req, Resp]
	inFlight int
}

type batchCall[Req, Resp any] struct {
	req  Req
	done chan Resp
}

// do queues req and returns its answer, or fail(ctx.Err()) when ctx ends
// first (the answer, when it comes, is dropped).
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
		return b.fail(ctx.Err())
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
		answered := make([]bool, n)
		err := b.send(reqs, func(i int, r Resp) {
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
