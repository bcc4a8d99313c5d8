package core

import (
	"context"
	"path/filepath"
	"sync"

	"github.com/drover-dr/drover/host"
	"github.com/zclconf/go-cty/cty"
)

// hostRoots opens the hosts of the actions, which a runbook invokes once
// per step, on the same few hosts: a local host's relative root is made
// absolute once per provider, not at every step (os.Getwd's two stats and
// the join were a twentieth of the plugin's CPU in a 1,000-step run).
//
// Only the root's name is kept, never an opened host or folder: each call
// opens its host afresh, and the local transport checks the root by that
// name before it acts, so a root removed or replaced between two steps is
// seen by the next one. The name is right while the provider's working
// folder is where it was: a plugin changes folder only before it serves
// (a spare taking its orders), and a working folder moved during a run
// leaves the name pointing where it was, which the root's check reports.
type hostRoots struct {
	mu  sync.Mutex
	abs map[string]string // relative root -> absolute
}

// open opens the host value v.
func (r *hostRoots) open(ctx context.Context, v cty.Value) (host.Host, error) {
	c, err := host.ConfigFromValue(v)
	if err != nil {
		return nil, err
	}
	if c.Root != "" && !filepath.IsAbs(c.Root) && c.EffectiveTransport() == "local" {
		r.mu.Lock()
		abs, ok := r.abs[c.Root]
		if !ok {
			// An error is left to the transport to report.
			if abs, err = filepath.Abs(c.Root); err == nil {
				if r.abs == nil {
					r.abs = map[string]string{}
				}
				r.abs[c.Root] = abs
			}
		}
		r.mu.Unlock()
		if abs != "" {
			c.Root = abs
		}
	}
	return c.OpenContext(ctx)
}
