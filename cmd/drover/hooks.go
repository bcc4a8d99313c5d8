package main

import (
	"sync"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/hashicorp/hcl/v2"
)

// planHooks reports refresh and planning as JSON events; text output shows
// the rendered plan instead, so it prints nothing here.
type planHooks struct{ v *view }

func (h planHooks) Refreshing(addr addrs.Instance) {
	if h.v.json {
		h.v.event("refresh_start", map[string]any{"address": addr.String()})
	}
}

func (h planHooks) Refreshed(addr addrs.Instance) {
	if h.v.json {
		h.v.event("refresh_complete", map[string]any{"address": addr.String()})
	}
}

func (h planHooks) Planned(c *plan.Change) {
	if h.v.json && c.Action != plan.NoOp {
		h.v.event("planned_change", map[string]any{"address": c.Addr.String(), "action": c.Action.Verb(),
			"symbol": c.Action.String(), "reason": string(c.Reason), "description": c.Description})
	}
}

// applyHooks reports each change: a line when it starts and ends, progress
// bars on a terminal, JSON events with --json.
type applyHooks struct {
	v *view

	mu      sync.Mutex
	started map[addrs.Instance]time.Time
	bars    *progressBars // nil unless on a terminal
}

func newApplyHooks(v *view) *applyHooks {
	h := &applyHooks{v: v, started: map[addrs.Instance]time.Time{}}
	if v.terminal {
		h.bars = newProgressBars(v)
	}
	return h
}

// wait ends the progress bars' drawing.
func (h *applyHooks) wait() {
	if h.bars != nil {
		h.bars.wait()
	}
}

var startVerbs = map[plan.Action]string{
	plan.Create: "Creating...", plan.Update: "Modifying...", plan.Delete: "Destroying...",
	plan.DeleteThenCreate: "Replacing...", plan.CreateThenDelete: "Replacing...", plan.Read: "Reading...",
}

var doneVerbs = map[plan.Action]string{
	plan.Create: "Creation complete", plan.Update: "Modifications complete", plan.Delete: "Destruction complete",
	plan.DeleteThenCreate: "Replacement complete", plan.CreateThenDelete: "Replacement complete", plan.Read: "Read complete",
}

func (h *applyHooks) Started(addr addrs.Instance, action plan.Action) {
	h.mu.Lock()
	h.started[addr] = time.Now()
	h.mu.Unlock()
	if h.v.json {
		h.v.event("apply_start", map[string]any{"address": addr.String(), "action": action.Verb()})
		return
	}
	h.line("%s: %s\n", addr, startVerbs[action])
}

// line prints a status line above the progress bars, if any.
func (h *applyHooks) line(format string, args ...any) {
	if h.bars != nil {
		h.bars.printf(h.v.out, format, args...)
		return
	}
	h.v.printf(format, args...)
}

func (h *applyHooks) Progress(addr addrs.Instance, p providers.Progress) {
	if h.v.json {
		h.v.event("apply_progress", map[string]any{"address": addr.String(), "done": p.Done, "total": p.Total,
			"unit": p.Unit, "message": p.Message})
		return
	}
	if h.bars != nil {
		h.bars.update(addr.String(), p)
	}
}

func (h *applyHooks) Finished(addr addrs.Instance, action plan.Action, diags hcl.Diagnostics) {
	h.mu.Lock()
	elapsed := time.Since(h.started[addr]).Round(time.Second)
	h.mu.Unlock()
	if h.v.json {
		typ := "apply_complete"
		if diags.HasErrors() {
			typ = "apply_errored"
		}
		h.v.event(typ, map[string]any{"address": addr.String(), "action": action.Verb(), "elapsed_seconds": elapsed.Seconds()})
		return
	}
	// The line before the bar ends: the bars' last drawing shows it.
	if !diags.HasErrors() {
		h.line("%s: %s after %s\n", addr, doneVerbs[action], elapsed)
	}
	if h.bars != nil {
		h.bars.finish(addr.String(), diags.HasErrors())
	}
}
