package dag

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/go-multierror"
)

// NodeError is the failure of one node in a walk.
type NodeError[K comparable] struct {
	Node K
	Err  error
}

func (e *NodeError[K]) Error() string { return fmt.Sprintf("%v: %v", e.Node, e.Err) }
func (e *NodeError[K]) Unwrap() error { return e.Err }

// WalkOptions adjusts a walk.
type WalkOptions struct {
	// StopOnError stops starting nodes after the first failure; nodes
	// already running finish. Without it independent branches go on.
	StopOnError bool
}

// Walk runs fn for every node once all its dependencies have succeeded, at
// most parallelism at a time (unlimited when <= 0). A node depending on a
// failed or skipped node is skipped. When ctx is done no new node starts
// and nodes already running finish.
//
// The error collects, with go-multierror, each failure once as a
// *NodeError[K] (never for the nodes skipped because of it), and ctx's
// error when cancelling left nodes unstarted.
func (g *Graph[K]) Walk(ctx context.Context, parallelism int, fn func(context.Context, K) error) error {
	return g.WalkWith(ctx, parallelism, WalkOptions{}, fn)
}

// WalkWith is Walk with options.
func (g *Graph[K]) WalkWith(ctx context.Context, parallelism int, opts WalkOptions, fn func(context.Context, K) error) error {
	n := len(g.nodes)
	if parallelism <= 0 || parallelism > n {
		parallelism = max(n, 1)
	}
	w := &walker[K]{g: g, ctx: ctx, fn: fn, opts: opts, limit: parallelism,
		ready: make([]int, 0, n), waiting: make([]int, n), poisoned: make([]bool, n)}
	for i, v := range g.nodes {
		w.waiting[i] = len(v.deps)
		if w.waiting[i] == 0 {
			w.ready = append(w.ready, i)
		}
	}
	w.mu.Lock()
	start := w.takeAll()
	w.mu.Unlock()
	w.start(start)
	w.wg.Wait()

	switch {
	case w.finished == n:
		return w.errs.ErrorOrNil()
	case ctx.Err() != nil:
		return multierror.Append(w.errs, ctx.Err())
	case w.errs != nil:
		return w.errs
	}
	return fmt.Errorf("%d nodes never became ready: the graph has a cycle", n-w.finished)
}

// walker is the state of one walk. There is no scheduler goroutine: a
// goroutine exists only while it runs a node, and after finishing one it
// takes the next ready node itself, so a chain runs on one goroutine and
// nothing sits blocked for the whole walk.
type walker[K comparable] struct {
	g     *Graph[K]
	ctx   context.Context
	fn    func(context.Context, K) error
	opts  WalkOptions
	limit int
	wg    sync.WaitGroup

	// mu guards everything below.
	mu       sync.Mutex
	ready    []int // FIFO; ready[head:] are waiting to start
	head     int
	waiting  []int // unfinished dependencies per node
	poisoned []bool
	running  int
	finished int // run or skipped
	stopped  bool
	errs     *multierror.Error
}

// takeAll claims every ready node a slot is free for. Nodes are claimed
// only here and in take, both after checking for a stop, so once ctx is
// done nothing new starts.
func (w *walker[K]) takeAll() []int {
	var ids []int
	for {
		id, ok := w.take()
		if !ok {
			return ids
		}
		ids = append(ids, id)
	}
}

// start runs claimed nodes, each on a goroutine of its own; called without
// mu held, so the goroutines do not queue behind the one starting them.
func (w *walker[K]) start(ids []int) {
	w.wg.Add(len(ids))
	for _, id := range ids {
		go w.run(id)
	}
}

// take claims the next ready node, if the walk goes on and a slot is free.
func (w *walker[K]) take() (int, bool) {
	if !w.stopped && w.ctx.Err() != nil {
		w.stopped = true
	}
	if w.stopped || w.running >= w.limit || w.head == len(w.ready) {
		return 0, false
	}
	id := w.ready[w.head]
	w.head++
	w.running++
	return id, true
}

func (w *walker[K]) run(id int) {
	defer w.wg.Done()
	for {
		err := w.fn(w.ctx, w.g.nodes[id].key)
		w.mu.Lock()
		w.running--
		if err != nil {
			w.errs = multierror.Append(w.errs, &NodeError[K]{Node: w.g.nodes[id].key, Err: err})
			if w.opts.StopOnError {
				w.stopped = true
			}
		}
		w.release(id, err != nil)
		next, ok := w.take()
		var more []int
		if ok {
			more = w.takeAll()
		}
		w.mu.Unlock()
		if !ok {
			return
		}
		w.start(more)
		id = next
	}
}

// release marks id finished and queues its dependents that are now free;
// a dependent of a failure is skipped on the spot, and so on down.
func (w *walker[K]) release(id int, failed bool) {
	type done struct {
		id     int
		failed bool
	}
	stack := []done{{id, failed}}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		w.finished++
		for _, dep := range w.g.nodes[d.id].dependents {
			if d.failed {
				w.poisoned[dep] = true
			}
			w.waiting[dep]--
			switch {
			case w.waiting[dep] > 0:
			case w.poisoned[dep]:
				stack = append(stack, done{dep, true})
			default:
				w.ready = append(w.ready, dep)
			}
		}
	}
}
