package replication

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
)

// planReuse is how long the walk of a refresh stays good for the plan that
// follows it in this process: one `drover plan` then walks a set once, the
// refresh counting what is pending and the plan describing it. Apply always
// walks again: resources applied before it in the same run may have
// changed the source (a registry capture written into the set).
const planReuse = 30 * time.Second

// walked is an open mirror of a set and its last plan.
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
	if old := pc.entries[key]; old != nil {
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

// walk returns a walk of the set: with reuse, the one kept if fresh, else a
// new one.
func walk(ctx context.Context, c setConfig, reuse bool) (*walked, error) {
	if reuse {
		if w := plans.take(cacheKey(c)); w != nil {
			return w, nil
		}
	}
	m, closeAll, err := c.open(ctx)
	if err != nil {
		return nil, err
	}
	at := time.Now()
	pl, err := m.Plan(ctx)
	if err != nil {
		closeAll()
		return nil, err
	}
	return &walked{m: m, close: closeAll, plan: pl, at: at}, nil
}
