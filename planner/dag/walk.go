package dag

import (
	"context"
	"fmt"

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
// failed or skipped node is skipped. When ctx is done no new node starts.
// The error collects each failure once, as *NodeError[K].
func (g *Graph[K]) Walk(ctx context.Context, parallelism int, fn func(context.Context, K) error) error {
	return g.WalkWith(ctx, parallelism, WalkOptions{}, fn)
}

// WalkWith is Walk with options.
func (g *Graph[K]) WalkWith(ctx context.Context, parallelism int, opts WalkOptions, fn func(context.Context, K) error) error {
	n := len(g.nodes)
	if parallelism <= 0 || parallelism > n {
		parallelism = max(n, 1)
	}
	waiting := make([]int, n)
	poisoned := make([]bool, n)
	var ready []int
	for i, v := range g.nodes {
		waiting[i] = len(v.deps)
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	type result struct {
		id  int
		err error
	}
	done := make(chan result, parallelism)
	jobs := make(chan int, parallelism)
	defer close(jobs)
	for range parallelism {
		go func() {
			for id := range jobs {
				done <- result{id: id, err: fn(ctx, g.nodes[id].key)}
			}
		}()
	}
	var errs error
	running, finished := 0, 0
	stopped := false

	// release marks id finished and queues its dependents that are now
	// free; a poisoned dependent is skipped on the spot, poisoning its own.
	var release func(id int, failed bool)
	release = func(id int, failed bool) {
		finished++
		for _, d := range g.nodes[id].dependents {
			if failed {
				poisoned[d] = true
			}
			waiting[d]--
			if waiting[d] > 0 {
				continue
			}
			if poisoned[d] {
				release(d, true)
				continue
			}
			ready = append(ready, d)
		}
	}

	for finished < n {
		if !stopped && ctx.Err() != nil {
			stopped = true
		}
		for !stopped && running < parallelism && len(ready) > 0 {
			id := ready[len(ready)-1]
			ready = ready[:len(ready)-1]
			running++
			jobs <- id
		}
		if running == 0 {
			break
		}
		select {
		case r := <-done:
			running--
			if r.err != nil {
				errs = multierror.Append(errs, &NodeError[K]{Node: g.nodes[r.id].key, Err: r.err})
				if opts.StopOnError {
					stopped = true
				}
			}
			release(r.id, r.err != nil)
		case <-ctx.Done():
			stopped = true
			r := <-done
			running--
			if r.err != nil {
				errs = multierror.Append(errs, &NodeError[K]{Node: g.nodes[r.id].key, Err: r.err})
			}
			release(r.id, r.err != nil)
		}
	}
	switch {
	case errs != nil || finished == n:
		return errs
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("%d nodes never became ready: the graph has a cycle", n-finished)
}
