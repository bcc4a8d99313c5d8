package planner

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/lang"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// Trigger is a runbook's trigger block evaluated: what `drover watch`
// watches and when it runs the runbook.
type Trigger struct {
	Runbook   string
	Heartbeat host.Config
	// Witness is the host that must not reach Heartbeat either before the
	// runbook runs; nil when the trigger names none.
	Witness  *host.Config
	Interval time.Duration
	Missed   int
	// DeclRange is the trigger block, for diagnostics.
	DeclRange hcl.Range
}

// Default heartbeat settings: a machine is declared down after 25 s of
// silence.
const (
	defaultInterval = 5 * time.Second
	defaultMissed   = 5
)

// EvalTrigger evaluates the trigger of the runbook called name with the
// variables vars. The heartbeat and the witness must be hosts reached over
// the network: a local host cannot go down without this machine.
func EvalTrigger(cfg *lang.Config, vars map[string]cty.Value, name string) (*Trigger, hcl.Diagnostics) {
	rb := cfg.Runbooks[name]
	if rb == nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown runbook",
			Detail: fmt.Sprintf("The configuration has no runbook %q; its runbooks are: %s.", name, strings.Join(slices.Sorted(maps.Keys(cfg.Runbooks)), ", "))}}
	}
	if rb.Trigger == nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Runbook without trigger",
			Detail:  fmt.Sprintf("Runbook %q has no trigger block, so nothing tells when to run it. Add one: trigger { heartbeat = host.fs1 }.", name),
			Subject: rb.DeclRange.Ptr()}}
	}
	t := &Trigger{Runbook: name, Interval: defaultInterval, Missed: defaultMissed, DeclRange: rb.Trigger.DeclRange}
	e := &staticEval{cfg: cfg, vals: newValues(vars), done: map[node]bool{}}
	eval := func(expr hcl.Expression, what string) hcl.Diagnostics {
		refs, diags := lang.ExprRefs(expr)
		return append(diags, e.need(refs, fmt.Sprintf("the trigger of runbook %q", name), what)...)
	}
	var diags hcl.Diagnostics
	remote := func(expr hcl.Expression, what string) *host.Config {
		if d := eval(expr, what); d.HasErrors() {
			diags = append(diags, d...)
			return nil
		}
		v, d := evalKnown(e.scope(), expr, host.Type)
		diags = append(diags, d...)
		if d.HasErrors() {
			return nil
		}
		c, err := host.ConfigFromValue(v)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid trigger",
				Detail: fmt.Sprintf("%s: %s.", what, err), Subject: expr.Range().Ptr()})
			return nil
		}
		if c.EffectiveTransport() == "local" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid trigger",
				Detail:  fmt.Sprintf("The %s is host %q, this machine: it cannot go down while this machine watches. Name a host with an address.", what, c.Name),
				Subject: expr.Range().Ptr()})
			return nil
		}
		return &c
	}
	if hb := remote(rb.Trigger.Heartbeat, "heartbeat"); hb != nil {
		t.Heartbeat = *hb
	}
	if rb.Trigger.Witness != nil {
		t.Witness = remote(rb.Trigger.Witness, "witness")
		if t.Witness != nil && t.Witness.Name == t.Heartbeat.Name {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid trigger",
				Detail:  fmt.Sprintf("The witness is the heartbeat host %q itself: a witness is a third machine that tells whether it still reaches that host.", t.Witness.Name),
				Subject: rb.Trigger.Witness.Range().Ptr()})
		}
	}
	if expr := rb.Trigger.Interval; expr != nil {
		d, dd := evalDuration(e.scope(), expr)
		diags = append(diags, dd...)
		if d > 0 {
			t.Interval = d
		}
	}
	if expr := rb.Trigger.Missed; expr != nil {
		v, d := evalKnown(e.scope(), expr, cty.Number)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if err := gocty.FromCtyValue(v, &t.Missed); err != nil || t.Missed < 1 {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid trigger",
					Detail: fmt.Sprintf("missed must be a whole number of heartbeats, at least 1; it is %s.", v.AsBigFloat().String()), Subject: expr.Range().Ptr()})
			}
		}
	}
	return t, diags
}
