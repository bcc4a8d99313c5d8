package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/hashicorp/hcl/v2"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
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
	bars    map[addrs.Instance]*mpb.Bar
	prog    *mpb.Progress
}

func newApplyHooks(v *view) *applyHooks {
	h := &applyHooks{v: v, started: map[addrs.Instance]time.Time{}, bars: map[addrs.Instance]*mpb.Bar{}}
	if v.terminal {
		h.prog = mpb.New(mpb.WithOutput(v.out), mpb.WithWidth(40))
	}
	return h
}

// wait lets the progress bars finish drawing.
func (h *applyHooks) wait() {
	if h.prog != nil {
		h.prog.Wait()
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
	if h.prog != nil {
		fmt.Fprintf(h.prog, format, args...)
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
	if h.prog == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	bar, ok := h.bars[addr]
	if !ok {
		bar = h.prog.AddBar(p.Total,
			mpb.PrependDecorators(decor.Name(addr.String()+" ", decor.WC{W: len(addr.String()) + 1, C: decor.DindentRight})),
			mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5}), decor.Name(" "), decor.AverageETA(decor.ET_STYLE_GO)))
		h.bars[addr] = bar
	}
	if p.Total > 0 {
		bar.SetTotal(p.Total, false)
	}
	bar.SetCurrent(p.Done)
}

func (h *applyHooks) Finished(addr addrs.Instance, action plan.Action, diags hcl.Diagnostics) {
	h.mu.Lock()
	elapsed := time.Since(h.started[addr]).Round(time.Second)
	if bar, ok := h.bars[addr]; ok {
		if diags.HasErrors() {
			bar.Abort(false)
		} else {
			bar.SetTotal(-1, true)
		}
		delete(h.bars, addr)
	}
	h.mu.Unlock()
	if h.v.json {
		typ := "apply_complete"
		if diags.HasErrors() {
			typ = "apply_errored"
		}
		h.v.event(typ, map[string]any{"address": addr.String(), "action": action.Verb(), "elapsed_seconds": elapsed.Seconds()})
		return
	}
	if !diags.HasErrors() {
		h.line("%s: %s after %s\n", addr, doneVerbs[action], elapsed)
	}
}
