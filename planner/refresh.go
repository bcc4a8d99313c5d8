package planner

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang/funcs"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// refresh reads every managed instance of prior through its provider, in
// parallel, and returns the refreshed copy with what drifted. An object its
// provider reports gone is dropped from the refreshed state.
//
// A pending object (an apply was killed before recording its outcome) is
// read back even with SkipRefresh, since only the host knows whether it
// was made: found, it is what the host holds and is planned like any
// object; not found, it is dropped and planned as a create. A state-only
// object has nothing to read back: pending, it was not recorded as made,
// so it is dropped too.
func (r *run) refresh(ctx context.Context, prior *state.State) (*state.State, []*plan.Change, hcl.Diagnostics) {
	refreshed := prior.DeepCopy()
	var (
		mu    sync.Mutex
		drift []*plan.Change
		diags hcl.Diagnostics
		wg    sync.WaitGroup
	)
	for _, addr := range prior.SortedAddrs() {
		inst := prior.Instances[addr]
		if addr.Mode == addrs.Data {
			continue
		}
		if r.targeted != nil && !r.targeted[addr.Resource] {
			continue
		}
		pending := inst.Status == state.Pending
		if r.opts.SkipRefresh && !pending {
			continue
		}
		rs, d := typeSchema(ctx, r.opts.Providers, addr.Mode, addr.Type, inst.Provider, hcl.Range{})
		// Reads already started change refreshed and diags under mu.
		if d.HasErrors() {
			mu.Lock()
			diags = append(diags, d...)
			mu.Unlock()
			continue
		}
		if rs.schema.StateOnly {
			if pending {
				mu.Lock()
				refreshed.Remove(addr)
				mu.Unlock()
			}
			continue
		}
		wg.Add(1)
		r.sem <- struct{}{}
		go func() {
			defer func() { <-r.sem; wg.Done() }()
			if r.opts.Hooks != nil {
				r.opts.Hooks.Refreshing(addr)
			}
			rctx, cancel := r.readContext(ctx, addr.Resource)
			resp := rs.client.Read(rctx, providers.ReadRequest{TypeName: addr.Type, Prior: inst.Attrs, Private: inst.Private})
			timedOut := rctx.Err() == context.DeadlineExceeded
			cancel()
			if r.opts.Hooks != nil {
				r.opts.Hooks.Refreshed(addr)
			}
			mu.Lock()
			defer mu.Unlock()
			// Warnings too: the user hears of them as of a plan's.
			diags = append(diags, providerDiags(resp.Diagnostics, rs.provider, addr, nil, r.resourceRange(addr.Resource), funcs.SensitiveTexts(inst.Attrs, inst.SensitivePaths))...)
			if resp.Diagnostics.HasErrors() {
				if timedOut {
					diags = append(diags, timeoutDiag(addr, "reading", "read", r.cfg.Resources[addr.Resource].Timeouts.Read, r.resourceRange(addr.Resource)))
				}
				return
			}
			newVal := resp.New
			if newVal.IsNull() {
				refreshed.Remove(addr)
				if !pending {
					drift = append(drift, &plan.Change{Addr: addr, Provider: inst.Provider, Action: plan.Delete,
						Before: inst.Attrs, After: cty.NullVal(inst.Attrs.Type()), SensitivePaths: inst.SensitivePaths})
				}
				return
			}
			ri := refreshed.Instance(addr)
			ri.Attrs = newVal
			ri.Private = resp.Private
			if pending {
				// What the host holds is the object: the plan compares it
				// with the configuration like any other. Not drift: Drover
				// made it.
				ri.Status = state.Ready
				return
			}
			if !newVal.RawEquals(inst.Attrs) {
				drift = append(drift, &plan.Change{Addr: addr, Provider: inst.Provider, Action: plan.Update,
					Before: inst.Attrs, After: newVal, SensitivePaths: inst.SensitivePaths})
			}
		}()
	}
	wg.Wait()
	return refreshed, drift, diags
}

// readContext bounds a read of a resource by its timeouts.read, if set.
func (r *run) readContext(ctx context.Context, addr addrs.Resource) (context.Context, context.CancelFunc) {
	if rc := r.cfg.Resources[addr]; rc != nil && rc.Timeouts.Read > 0 {
		return context.WithTimeout(ctx, rc.Timeouts.Read)
	}
	return ctx, func() {}
}

// timeoutDiag explains that a provider call on addr ran past the limit of
// the timeouts block.
func timeoutDiag(addr addrs.Instance, doing, name string, limit time.Duration, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Provider call timed out",
		Detail: fmt.Sprintf("%s %s took longer than timeouts.%s (%s), so Drover asked the provider to stop. "+
			"If the work needs longer, raise %s in the resource's timeouts block.", doing, addr, name, limit, name),
		Subject: rng.Ptr(),
	}
}

// resourceRange is the declaration of addr, or an empty range when the
// resource is only in state.
func (r *run) resourceRange(addr addrs.Resource) hcl.Range {
	if rc, ok := r.cfg.Resources[addr]; ok {
		return rc.DeclRange
	}
	return hcl.Range{}
}
