package replication

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
)

// planReuse is how long a walk stays good in this process. The refresh of
// a run walks a set; the plan that follows describes that walk; the apply
// after it mirrors by that walk too, but only while the walk's tripwires
// prove that neither side changed since (mirror.Plan.Current): resources
// applied before it in the same run may have written into the source (a
// registry capture written into the set), and anyone may have changed
// either side while the plan waited for approval. Otherwise apply walks
// again.
const planReuse = 30 * time.Second

// walked is an open mirror of a set and its last plan, a guarded one.
type walked struct {
	m     *mirror.Mirror
	close func()
	plan  *mirror.Plan
	at    time.Time
	timer *time.Timer
}

// plans holds at most one walked set per configuration.
var plans = &planCache{entries: map[string]*walked{}}

type planCache struct {
	mu      sync.Mutex
	entries map[string]*walked
}

func cacheKey(c setConfig) string { return fmt.Sprintf("%#v", c) }

// put keeps w for planReuse, replacing (and closing) what was kept.
func (pc *planCache) put(key string, w *walked) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if old := pc.entries[key]; old != nil && old != w {
		old.timer.Stop()
		old.close()
	}
	pc.entries[key] = w
	w.timer = time.AfterFunc(planReuse, func() {
		pc.mu.Lock()
		defer pc.mu.Unlock()
		if pc.entries[key] == w {
			delete(pc.entries, key)
			w.close()
		}
	})
}

// get returns the walked set kept for key, if still fresh, and keeps it.
func (pc *planCache) get(key string) *walked {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	w := pc.entries[key]
	if w == nil || time.Since(w.at) > planReuse {
		return nil
	}
	return w
}

// take removes and returns the walked set kept for key, if still fresh.
func (pc *planCache) take(key string) *walked {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	w := pc.entries[key]
	if w == nil {
		return nil
	}
	delete(pc.entries, key)
	w.timer.Stop()
	if time.Since(w.at) > planReuse {
		w.close()
		return nil
	}
	return w
}

// newWalk opens the set and walks it, guarded.
func newWalk(ctx context.Context, c setConfig) (*walked, error) {
	m, closeAll, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	at := time.Now()
	pl, err := m.PlanGuarded(ctx)
	if err != nil {
		closeAll()
		return nil, err
	}
	return &walked{m: m, close: func() { pl.Close(); closeAll() }, plan: pl, at: at}, nil
}

// refreshWalk walks the set anew and keeps the walk for the plan and the
// apply of this run.
func refreshWalk(ctx context.Context, c setConfig) (*walked, error) {
	w, err := newWalk(ctx, c)
	if err != nil {
		return nil, err
	}
	plans.put(cacheKey(c), w)
	return w, nil
}

// planWalk is the walk kept by the refresh, if fresh; otherwise a new one,
// kept for the apply.
func planWalk(ctx context.Context, c setConfig) (*walked, error) {
	if w := plans.get(cacheKey(c)); w != nil {
		return w, nil
	}
	return refreshWalk(ctx, c)
}

// applyWalk is the walk kept by the refresh or the plan while it is
// current; otherwise a new one. The caller closes it.
func applyWalk(ctx context.Context, c setConfig) (*walked, error) {
	if w := plans.take(cacheKey(c)); w != nil {
		if w.plan.Current(ctx) {
			// Proved; the apply's own writes need no watching. The
			// watches come down beside the copy, which need not wait:
			// removing a tree's inotify watches on the machine took 20
			// ms of a first sync of 20,000 files, and grows with the
			// tree. The plan is closed again only once they are down.
			down := make(chan struct{})
			go func() {
				defer close(down)
				w.plan.Close()
			}()
			closeRest := w.close
			w.close = func() {
				<-down
				closeRest()
			}
			return w, nil
		}
		w.close()
	}
	return newWalk(ctx, c)
}
