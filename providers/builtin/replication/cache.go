package replication

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/drover-dr/drover/providers/builtin/replication/mirror"
)

// planReuse is how long a plan of a set stays good for the next call in
// this process: one `drover apply` then walks a set once, its refresh
// making the plan that its plan describes and its apply applies. An apply
// approved later than this walks again. A reused plan is a walk made that
// much earlier: each file is still read as it is when copied, and the
// source folder is checked again before anything is deleted.
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

// walk returns a fresh walk of the set: the one kept, or a new one.
func walk(ctx context.Context, c setConfig) (*walked, error) {
	if w := plans.take(cacheKey(c)); w != nil {
		return w, nil
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
