package host

import (
	"context"
	"fmt"
)

// CallWatched is Call for an op that lists folders through tw, a
// tripwire of h opened on its "/" (h is then the folder watched, confined
// to it): the op finds tw with WatchedBy, lists through it, and leaves it
// watching when it returns, for the caller to ask Tripped later. A walk
// of a tree that way is one call, where one through a remote transport's
// tripwire is a call per folder. For a local host the op runs in this
// process with tw itself; for a remote one tw must be an Invoker (the
// agent's tripwire), which runs the op on the machine with the tripwire it
// holds there. Any other tripwire fails with ErrNoOps.
func CallWatched[Req, Resp any](ctx context.Context, h Host, tw Tripwire, name string, req Req) (Resp, error) {
	if _, ok := h.(*local); ok {
		return Call[Req, Resp](WithTripwire(ctx, tw), h, name, req)
	}
	if t, ok := tw.(Invoker); ok {
		return Call[Req, Resp](ctx, watchedHost{h, t}, name, req)
	}
	var zero Resp
	return zero, fmt.Errorf("host %q: op %s through a tripwire: %w", h.Name(), name, ErrNoOps)
}

// watchedHost is h whose ops go through its tripwire's Invoker.
type watchedHost struct {
	Host
	Invoker
}

type tripwireKey struct{}

// WithTripwire returns a context under which an op finds tw with
// WatchedBy: what an agent serving an Invoker's tripwire (CallWatched)
// runs the op with.
func WithTripwire(ctx context.Context, tw Tripwire) context.Context {
	return context.WithValue(ctx, tripwireKey{}, tw)
}

// WatchedBy is the tripwire an op was called through (CallWatched), nil
// for a plain Call. The op must not close it: it outlives the call.
func WatchedBy(ctx context.Context) Tripwire {
	tw, _ := ctx.Value(tripwireKey{}).(Tripwire)
	return tw
}
