package planner

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Budgets as code: a runbook's rpo is held against the data-loss window of
// every drive_copy and replication_set it depends on, as the refreshed
// state tells it now; its rto against the longest chain of steps, each
// counted at its timeout or, without one, at the longest it took in the
// runs recorded.

// protectedTypes are the resource types whose state tells a data-loss
// window.
var protectedTypes = []string{"drive_copy", "replication_set"}

// checkBudgets fills rb.Budget and reports each figure over its budget as
// an error, or a warning with allowOver.
func (r *run) checkBudgets(src *lang.Runbook, rb *plan.Runbook, req *RunbookRequest) hcl.Diagnostics {
	var diags hcl.Diagnostics
	severity := hcl.DiagError
	if req.AllowOverBudget {
		severity = hcl.DiagWarning
	}
	if rb.RPO > 0 {
		now := time.Now()
		for _, inst := range r.protected(src, rb) {
			window, known := dataLossWindow(inst, now)
			c := &plan.BudgetCheck{Budget: "rpo", Subject: inst.Addr.String(), Value: window, Limit: rb.RPO}
			switch {
			case !known:
				c.Over, c.Detail = true, "its data-loss window is not known: its last refresh failed"
			case window > rb.RPO:
				c.Over = true
			}
			rb.Budget = append(rb.Budget, c)
			if c.Over {
				detail := c.Detail
				if detail == "" {
					detail = fmt.Sprintf("its data-loss window is %s", plan.RoundDuration(window))
				}
				diags = append(diags, &hcl.Diagnostic{Severity: severity, Summary: "Over the RPO budget",
					Detail: fmt.Sprintf("Runbook %q has rpo = %q, and %s: %s. Bring it up to date (drover apply) and plan again, or run with --allow-over-budget.",
						rb.Name, rb.RPO, inst.Addr, detail),
					Subject: src.RPO.Range().Ptr()})
			}
		}
	}
	if rb.RTO > 0 {
		chain, total, unknown := criticalPath(rb, req.Measured)
		c := &plan.BudgetCheck{Budget: "rto", Subject: strings.Join(chain, " → "), Value: total, Limit: rb.RTO, Over: total > rb.RTO}
		if len(unknown) > 0 {
			c.Detail = "no timeout and no past run: " + strings.Join(unknown, ", ")
		}
		rb.Budget = append(rb.Budget, c)
		if c.Over {
			diags = append(diags, &hcl.Diagnostic{Severity: severity, Summary: "Over the RTO budget",
				Detail: fmt.Sprintf("Runbook %q has rto = %q, and its longest chain of steps, %s, may take %s (by their timeouts, or the longest past runs without one). Shorten the timeouts, split the chain, or run with --allow-over-budget.",
					rb.Name, rb.RTO, c.Subject, total),
				Subject: src.RTO.Range().Ptr()})
		}
	}
	return diags
}

// protected lists, in address order, the drive copies and replication sets
// the runbook depends on: those its steps refer to, those carrying a
// capture it imports, and those whose target is on a host its steps act on
// (the standby's data).
func (r *run) protected(src *lang.Runbook, rb *plan.Runbook) []*state.Instance {
	hosts := map[string]bool{}
	for _, s := range rb.Steps {
		if s.Host != "" {
			hosts[s.Host] = true
		}
	}
	named := map[addrs.Resource]bool{}
	for _, s := range src.Steps {
		for _, e := range []hcl.Expression{s.Run, s.Env, s.Dir, s.Prompt, s.Import, s.SetDefault, s.SetNext, s.Check} {
			if e == nil {
				continue
			}
			refs, _ := lang.ExprRefs(e)
			for _, ref := range refs {
				if ref.Kind == lang.RefResource {
					named[ref.Resource] = true
				}
			}
		}
	}
	found := map[addrs.Instance]*state.Instance{}
	for addr, insts := range r.byResource {
		if addr.Mode != addrs.Managed || !slices.Contains(protectedTypes, addr.Type) {
			continue
		}
		for _, inst := range insts {
			attrs, _ := inst.Attrs.UnmarkDeep()
			if named[addr] || hosts[targetHost(attrs)] {
				found[inst.Addr] = inst
			}
		}
	}
	// A replication set carrying an imported capture counts even when
	// its target is on a host no step names.
	for _, s := range rb.Steps {
		if s.Action != plan.StepImport {
			continue
		}
		for addr, insts := range r.byResource {
			if addr.Type == "replication_set" {
				for _, inst := range insts {
					attrs, _ := inst.Attrs.UnmarkDeep()
					if targetHost(attrs) == s.Host {
						found[inst.Addr] = inst
					}
				}
			}
		}
	}
	keys := slices.SortedFunc(maps.Keys(found), func(a, b addrs.Instance) int { return strings.Compare(a.String(), b.String()) })
	out := make([]*state.Instance, len(keys))
	for i, k := range keys {
		out[i] = found[k]
	}
	return out
}

// targetHost is the host name of a drive copy's host or a replication
// set's target.
func targetHost(attrs cty.Value) string {
	if attrs.IsNull() || !attrs.Type().IsObjectType() {
		return ""
	}
	for _, path := range [][]string{{"target", "host", "name"}, {"host", "name"}} {
		v := attrs
		for _, name := range path {
			if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute(name) {
				v = cty.NilVal
				break
			}
			v = v.GetAttr(name)
		}
		if v != cty.NilVal && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
			return v.AsString()
		}
	}
	return ""
}

// dataLossWindow is what failing over now would lose of inst: for a
// replication set, the age of its oldest change not yet on the target
// (none when in sync); for a drive copy, the time since its last copy,
// as an upper bound. known is false when the state cannot tell.
func dataLossWindow(inst *state.Instance, now time.Time) (time.Duration, bool) {
	attrs, _ := inst.Attrs.UnmarkDeep()
	at := func(name string) (time.Time, bool) {
		if !attrs.Type().HasAttribute(name) {
			return time.Time{}, false
		}
		v := attrs.GetAttr(name)
		if !v.IsKnown() || v.IsNull() {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, v.AsString())
		return t, err == nil
	}
	switch inst.Addr.Resource.Type {
	case "replication_set":
		pending := attrs.GetAttr("pending")
		if !pending.IsKnown() || pending.IsNull() {
			return 0, false
		}
		if pending.Equals(cty.Zero).True() {
			return 0, true
		}
		oldest, ok := at("oldest_pending")
		last, lok := at("last_mirror")
		if !ok || lok && oldest.Before(last) {
			oldest, ok = last, lok
		}
		if !ok {
			return 0, false
		}
		return now.Sub(oldest), true
	default:
		last, ok := at("last_copy_at")
		if !ok {
			return 0, false
		}
		return now.Sub(last), true
	}
}

// criticalPath is the longest chain of steps that will run, each counted
// at its timeout or else at its longest measured run; unknown lists the
// steps counted as nothing, having neither.
func criticalPath(rb *plan.Runbook, measured map[string]time.Duration) (chain []string, total time.Duration, unknown []string) {
	cost := map[string]time.Duration{}
	byName := map[string]*plan.Step{}
	for _, s := range rb.Steps {
		byName[s.Name] = s
		switch {
		case s.Skip != "":
		case s.Timeout > 0:
			cost[s.Name] = s.Timeout * time.Duration(1+s.Retries)
		case measured[s.Name] > 0:
			cost[s.Name] = measured[s.Name]
		case s.Action == plan.StepWait:
			// A wait lasts what it says, and its plan names it.
			var d time.Duration
			if a := s.Invoke.Args; a != cty.NilVal {
				d, _ = time.ParseDuration(a.GetAttr("duration").AsString())
			}
			cost[s.Name] = d
		default:
			unknown = append(unknown, s.Name)
		}
	}
	best := map[string]time.Duration{}
	prev := map[string]string{}
	// Steps are in wave order: every step's after comes before it.
	for _, s := range rb.Steps {
		var from string
		var longest time.Duration
		for _, a := range s.After {
			if byName[a] != nil && (from == "" || best[a] > longest) {
				from, longest = a, best[a]
			}
		}
		best[s.Name], prev[s.Name] = longest+cost[s.Name], from
	}
	var end string
	for _, s := range rb.Steps {
		if end == "" || best[s.Name] >= best[end] { // the deepest of equals: the whole chain
			end = s.Name
		}
	}
	for n := end; n != ""; n = prev[n] {
		chain = append([]string{fmt.Sprintf("%s (%s)", n, cost[n])}, chain...)
	}
	return chain, best[end], unknown
}
