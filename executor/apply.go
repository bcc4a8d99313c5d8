package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang/funcs"
	"github.com/drover-dr/drover/planner/dag"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// applier is one apply run. The state is changed only under mu.
type applier struct {
	plan *plan.Plan
	opts Options

	mu    sync.RWMutex
	state *state.State
	diags hcl.Diagnostics
	// intended holds, for each object recorded as pending before the walk,
	// what the state held before (nil for a create) until its change starts.
	intended map[addrs.Instance]*state.Instance
}

// Apply applies p on top of prior and returns the new state (also with
// errors: every change that finished is in it). prior is the stored state
// the plan was made against; the plan's refreshed state is preferred when
// the plan carries one.
func Apply(ctx context.Context, p *plan.Plan, prior *state.State, opts Options) (*state.State, hcl.Diagnostics) {
	if p.Errored {
		return prior, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Plan cannot be applied",
			Detail: "This plan stopped at an error while it was made. Fix the errors and plan again."}}
	}
	if p.Runbook != nil {
		return prior, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Plan cannot be applied",
			Detail: fmt.Sprintf("This is the plan of a run of runbook %q, which runs as a runbook, not as an apply.", p.Runbook.Name)}}
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 10
	}
	base := prior
	if p.PriorState != nil {
		base = p.PriorState
	}
	if base == nil {
		base = state.New()
	}
	a := &applier{plan: p, opts: opts, state: base.DeepCopy(), intended: map[addrs.Instance]*state.Instance{}}
	a.state.Lineage, a.state.Serial = prior.Lineage, prior.Serial
	for _, f := range p.Forgotten {
		a.state.Remove(f)
	}
	if p.PriorState == nil {
		// A saved plan: the planner's moves and imports are not in the
		// stored state yet.
		a.state.ApplyMoves(p.Moved)
		if d := a.importAgain(ctx); d.HasErrors() {
			return prior, d
		}
	}
	if p.Mode == plan.RefreshOnly {
		return a.state, a.finish(ctx)
	}

	if err := a.intend(p.Changes); err != nil {
		return a.state, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Failed to record the plan", Detail: err.Error() + "; nothing was changed."}}
	}
	g := applyGraph(p.Changes)
	if cycles := g.Cycles(); len(cycles) > 0 {
		return a.state, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cycle in the apply order",
			Detail: fmt.Sprintf("The changes cannot be ordered: %v. This is a bug in Drover; please report it with the plan.", cycles[0])}}
	}
	walkErr := g.WalkWith(ctx, opts.Parallelism*providers.QueuedPerSlot, dag.WalkOptions{StopOnError: true}, func(ctx context.Context, n node) error {
		if n.barrier != noBarrier {
			return nil
		}
		// Cancelling ctx stops scheduling; a change already running is let
		// finish, so the provider call does not see the cancellation.
		if d := a.applyChange(context.WithoutCancel(ctx), p.Changes[n.change]); d.HasErrors() {
			return errors.New("change failed")
		}
		return nil
	})
	if walkErr != nil && ctx.Err() != nil {
		a.addDiags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Apply interrupted",
			Detail: "The apply was cancelled: changes already running were allowed to finish and are recorded in the state; nothing else was started. Run plan or apply again to continue."}})
	}
	a.revertUnstarted()
	if p.Mode == plan.Destroy {
		a.mu.Lock()
		for addr := range a.state.Instances {
			if addr.Mode == addrs.Data {
				a.state.Remove(addr)
			}
		}
		a.mu.Unlock()
	}
	diags := a.diags
	if !diags.HasErrors() {
		diags = append(diags, a.finish(ctx)...)
	}
	return a.state, diags
}

func (a *applier) addDiags(d hcl.Diagnostics) {
	a.mu.Lock()
	a.diags = append(a.diags, d...)
	a.mu.Unlock()
}

// started notes that c's provider call is about to run, so its intent
// stands.
func (a *applier) started(c *plan.Change) {
	a.mu.Lock()
	delete(a.intended, c.Addr)
	a.mu.Unlock()
}

// revertUnstarted undoes the intents of changes the walk never started
// (it stopped at an error or was interrupted): those objects were not
// touched, and the state says so.
func (a *applier) revertUnstarted() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for addr, before := range a.intended {
		if before == nil {
			a.state.Remove(addr)
		} else {
			a.state.Set(before)
		}
	}
	a.intended = nil
}

// finish evaluates the root outputs over the final state.
func (a *applier) finish(ctx context.Context) hcl.Diagnostics {
	if a.opts.Finalizer == nil {
		return nil
	}
	if a.plan.Mode == plan.Destroy {
		a.state.Outputs = map[string]state.Output{}
		return nil
	}
	outs, diags := a.opts.Finalizer.Outputs(ctx, a.state)
	if diags.HasErrors() {
		return diags
	}
	a.state.Outputs = outs
	return diags
}

// record changes the state and appends the outcome to the journal. The
// intent was made durable before the walk (intend), so the outcome only
// has to survive the process being killed; the journal write is outside
// the lock, and entries about one instance come from one goroutine, in order.
func (a *applier) record(e state.JournalEntry) error {
	a.mu.Lock()
	switch {
	case e.Set != nil:
		a.state.Set(e.Set)
	case e.Remove != nil:
		a.state.Remove(*e.Remove)
	}
	a.mu.Unlock()
	if a.opts.Journal == nil {
		return nil
	}
	if err := a.opts.Journal.Append(e); err != nil {
		return fmt.Errorf("recording %s in the state journal: %w", entryAddr(e), err)
	}
	return nil
}

// intend records, durably and in one batch before anything runs, every
// object the plan may create: an apply killed at any later moment leaves
// them pending, and the next plan reads each back to learn whether it
// exists. A replaced object keeps its prior value until its outcome is known.
func (a *applier) intend(changes []*plan.Change) error {
	entries := a.stateEdits()
	for _, c := range changes {
		var attrs cty.Value
		switch c.Action {
		case plan.Create:
			attrs = unknownAsNull(c.After)
		case plan.DeleteThenCreate, plan.CreateThenDelete:
			attrs = c.Before
			if c.BeforeRedacted {
				if inst := a.state.Instance(c.Addr); inst != nil {
					attrs = inst.Attrs
				}
			}
		default:
			continue
		}
		inst := &state.Instance{Addr: c.Addr, Provider: c.Provider, Status: state.Pending, Attrs: attrs,
			SensitivePaths: c.SensitivePaths, Dependencies: c.Dependencies, CreateBeforeDestroy: c.CreateBeforeDestroy}
		a.intended[c.Addr] = a.state.Instance(c.Addr)
		a.state.Set(inst)
		entries = append(entries, state.JournalEntry{Set: inst})
	}
	if a.opts.Journal == nil || len(entries) == 0 {
		return nil
	}
	if err := a.opts.Journal.Record(entries...); err != nil {
		return fmt.Errorf("recording the planned changes in the state journal: %w", err)
	}
	return nil
}

// importAgain finds the objects a saved plan imports, which the stored
// state does not hold yet.
func (a *applier) importAgain(ctx context.Context) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, c := range a.plan.Changes {
		if c.ImportID == "" || a.state.Instance(c.Addr) != nil {
			continue
		}
		if a.opts.Finalizer == nil {
			return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot import",
				Detail: fmt.Sprintf("%s is to be imported, but this apply has no configuration to import it with.", c.Addr)})
		}
		inst, d := a.opts.Finalizer.Import(ctx, c.Addr, c.ImportID)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		a.state.Set(inst)
	}
	return diags
}

// stateEdits are the journal entries of the plan's edits of the state: each
// forgotten object leaves, each moved object leaves its old address for
// its new one, each imported object is recorded, and the instances whose
// dependencies name a resource that moved are written again.
func (a *applier) stateEdits() []state.JournalEntry {
	var entries []state.JournalEntry
	for _, f := range a.plan.Forgotten {
		entries = append(entries, state.JournalEntry{Remove: &f})
	}
	renamed := map[addrs.Resource]bool{}
	for _, m := range a.plan.Moved {
		from := m.From
		entries = append(entries, state.JournalEntry{Remove: &from})
		if inst := a.state.Instance(m.To); inst != nil {
			entries = append(entries, state.JournalEntry{Set: inst})
		}
		if m.From.Resource != m.To.Resource {
			renamed[m.To.Resource] = true
		}
	}
	for _, c := range a.plan.Changes {
		if inst := a.state.Instance(c.Addr); c.ImportID != "" && inst != nil {
			entries = append(entries, state.JournalEntry{Set: inst})
		}
	}
	if len(renamed) == 0 {
		return entries
	}
	for _, addr := range a.state.SortedAddrs() {
		inst := a.state.Instances[addr]
		for _, d := range inst.Dependencies {
			if renamed[d] {
				entries = append(entries, state.JournalEntry{Set: inst})
				break
			}
		}
	}
	return entries
}

func entryAddr(e state.JournalEntry) string {
	if e.Set != nil {
		return e.Set.Addr.String()
	}
	if e.Remove != nil {
		return e.Remove.String()
	}
	return "output"
}

// applyChange runs one change through its provider and records the result.
func (a *applier) applyChange(ctx context.Context, c *plan.Change) (diags hcl.Diagnostics) {
	hooks := a.opts.Hooks
	if hooks != nil {
		hooks.Started(c.Addr, c.Action)
		defer func() { hooks.Finished(c.Addr, c.Action, diags) }()
	}
	defer func() { a.addDiags(diags) }()
	a.started(c)

	prov, _, err := a.opts.Providers.Get(ctx, c.Provider)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Provider failed to start", Detail: fmt.Sprintf("%s: %s", c.Addr, err)}}
	}
	if c.ConfigUnknown {
		final, d := a.finalize(ctx, c)
		if d.HasErrors() {
			return d
		}
		c = final
	}
	if c.BeforeRedacted {
		a.mu.RLock()
		if inst := a.state.Instance(c.Addr); inst != nil {
			c.Before = inst.Attrs
		}
		a.mu.RUnlock()
	}
	if c.Action == plan.Read {
		return a.readData(ctx, prov, c)
	}
	progress := func(p providers.Progress) {
		if hooks != nil {
			hooks.Progress(c.Addr, p)
		}
	}
	switch c.Action {
	case plan.Delete:
		return a.delete(ctx, prov, c, progress)
	case plan.DeleteThenCreate:
		if d := a.delete(ctx, prov, c, progress); d.HasErrors() {
			return d
		}
		return a.create(ctx, prov, c, cty.NullVal(c.Before.Type()), progress)
	case plan.CreateThenDelete:
		old := *c
		if d := a.create(ctx, prov, c, cty.NullVal(c.Before.Type()), progress); d.HasErrors() {
			return d
		}
		return a.delete(ctx, prov, &old, progress)
	case plan.Create:
		return a.create(ctx, prov, c, cty.NullVal(c.After.Type()), progress)
	default:
		return a.create(ctx, prov, c, c.Before, progress)
	}
}

func (a *applier) finalize(ctx context.Context, c *plan.Change) (*plan.Change, hcl.Diagnostics) {
	if a.opts.Finalizer == nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot finish planning",
			Detail: fmt.Sprintf("%s has values only known during apply, and this apply has no configuration to evaluate them.", c.Addr)}}
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.opts.Finalizer.Finalize(ctx, c, a.state)
}

// create applies a create or an update: prior is null for a create.
func (a *applier) create(ctx context.Context, prov providers.Provider, c *plan.Change, prior cty.Value, progress func(providers.Progress)) hcl.Diagnostics {
	inst := &state.Instance{
		Addr: c.Addr, Provider: c.Provider, Status: state.Ready,
		SensitivePaths: c.SensitivePaths, Dependencies: c.Dependencies,
		CreateBeforeDestroy: c.CreateBeforeDestroy,
	}
	kind, limit := "create", c.Timeouts.Create
	if !prior.IsNull() {
		kind, limit = "update", c.Timeouts.Update
	}
	cctx, cancel := callContext(ctx, limit)
	resp := prov.Apply(cctx, providers.ApplyRequest{
		TypeName: c.Addr.Type, Prior: prior, Planned: c.After, PlannedPrivate: c.Private, Progress: progress,
	})
	diags := append(providerDiags(resp.Diagnostics, c), timedOut(cctx, c, kind, limit)...)
	cancel()
	newVal := resp.New
	switch {
	case newVal == cty.NilVal || newVal.IsNull():
		if prior.IsNull() {
			if err := a.record(state.JournalEntry{Remove: &c.Addr}); err != nil {
				diags = append(diags, errDiag(c.Addr, err)...)
			}
			if !diags.HasErrors() {
				diags = append(diags, inconsistent(c, "the provider returned no object after creating it", true)...)
			}
			return diags
		}
		newVal = prior
	case !newVal.IsWhollyKnown():
		diags = append(diags, inconsistent(c, "the provider left values unknown after apply", prior.IsNull())...)
		newVal = unknownAsNull(newVal)
	case !diags.HasErrors():
		if msg := contradicts(c.After, newVal); msg != "" {
			diags = append(diags, inconsistent(c, msg, prior.IsNull())...)
		}
	}
	inst.Attrs = newVal
	inst.Private = resp.Private
	// A create that failed leaves an object nobody knows to be whole: it is
	// replaced. An update that failed leaves the object the provider says
	// it now is, to be updated again, never destroyed for it.
	if diags.HasErrors() && prior.IsNull() {
		inst.Status = state.Tainted
	}
	if err := a.record(state.JournalEntry{Set: inst}); err != nil {
		diags = append(diags, errDiag(c.Addr, err)...)
	}
	return diags
}

// delete applies a delete, or the delete half of a replace; the object of
// a create-then-delete replace is already replaced in state.
func (a *applier) delete(ctx context.Context, prov providers.Provider, c *plan.Change, progress func(providers.Progress)) hcl.Diagnostics {
	cctx, cancel := callContext(ctx, c.Timeouts.Delete)
	resp := prov.Apply(cctx, providers.ApplyRequest{
		TypeName: c.Addr.Type, Prior: c.Before, Planned: cty.NullVal(c.Before.Type()), Progress: progress,
	})
	diags := append(providerDiags(resp.Diagnostics, c), timedOut(cctx, c, "delete", c.Timeouts.Delete)...)
	cancel()
	if diags.HasErrors() {
		return diags
	}
	if c.Action == plan.CreateThenDelete {
		return diags
	}
	if err := a.record(state.JournalEntry{Remove: &c.Addr}); err != nil {
		diags = append(diags, errDiag(c.Addr, err)...)
	}
	return diags
}

func (a *applier) readData(ctx context.Context, prov providers.Provider, c *plan.Change) hcl.Diagnostics {
	cctx, cancel := callContext(ctx, c.Timeouts.Read)
	resp := prov.ReadData(cctx, providers.ReadDataRequest{TypeName: c.Addr.Type, Config: c.After})
	diags := append(providerDiags(resp.Diagnostics, c), timedOut(cctx, c, "read", c.Timeouts.Read)...)
	cancel()
	if diags.HasErrors() {
		return diags
	}
	inst := &state.Instance{Addr: c.Addr, Provider: c.Provider, Status: state.Ready, Attrs: resp.State, SensitivePaths: c.SensitivePaths}
	if err := a.record(state.JournalEntry{Set: inst}); err != nil {
		diags = append(diags, errDiag(c.Addr, err)...)
	}
	return diags
}

// callContext bounds one provider call by limit, when set; the plugin
// client asks the provider to stop when the context ends.
func callContext(ctx context.Context, limit time.Duration) (context.Context, context.CancelFunc) {
	if limit <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, limit)
}

// timedOut explains a call whose context ran past the limit of the
// resource's timeouts block.
func timedOut(ctx context.Context, c *plan.Change, kind string, limit time.Duration) hcl.Diagnostics {
	if limit <= 0 || ctx.Err() != context.DeadlineExceeded {
		return nil
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Provider call timed out",
		Detail: fmt.Sprintf("The %s of %s took longer than timeouts.%s (%s), so Drover asked provider %q to stop. "+
			"If the work needs longer, raise %s in the resource's timeouts block.", kind, c.Addr, kind, limit, c.Provider, kind)}}
}

// contradicts reports how applied differs from a value known in planned.
func contradicts(planned, applied cty.Value) string {
	var msg string
	cty.Walk(planned, func(p cty.Path, pv cty.Value) (bool, error) {
		if msg != "" || !pv.IsKnown() {
			return false, nil
		}
		if pv.Type().IsPrimitiveType() || pv.IsNull() {
			av, err := p.Apply(applied)
			if err != nil || !av.RawEquals(pv) {
				msg = fmt.Sprintf("%s was planned as %s but is %s after apply", pathString(p), valueString(pv), valueString(av))
			}
			return false, nil
		}
		return true, nil
	})
	return msg
}

func pathString(p cty.Path) string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		case cty.IndexStep:
			b.WriteString(fmt.Sprintf("[%s]", valueString(s.Key)))
		}
	}
	if b.Len() == 0 {
		return "the object"
	}
	return b.String()
}

func valueString(v cty.Value) string {
	switch {
	case v == cty.NilVal || v.IsNull():
		return "null"
	case !v.IsKnown():
		return "(unknown)"
	case v.Type() == cty.String:
		return fmt.Sprintf("%q", v.AsString())
	case v.Type() == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case v.Type() == cty.Bool:
		return fmt.Sprint(v.True())
	}
	return v.Type().FriendlyName()
}

// unknownAsNull replaces unknown values with nulls, for recording an object
// whose final values are not known yet.
func unknownAsNull(v cty.Value) cty.Value {
	out, _ := cty.Transform(v, func(_ cty.Path, x cty.Value) (cty.Value, error) {
		if !x.IsKnown() {
			return cty.NullVal(x.Type()), nil
		}
		return x, nil
	})
	return out
}

func inconsistent(c *plan.Change, msg string, created bool) hcl.Diagnostics {
	next := "the object is kept as the provider returned it, and the next plan updates it again"
	if created {
		next = "the object is marked tainted and will be replaced on the next apply"
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Provider produced an inconsistent result",
		Detail: fmt.Sprintf("Applying %s: %s. This is a bug in provider %q; %s.", c.Addr, msg, c.Provider, next)}}
}

func errDiag(addr addrs.Instance, err error) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Failed to record the change", Detail: fmt.Sprintf("%s: %s", addr, err)}}
}

func providerDiags(pd providers.Diagnostics, c *plan.Change) hcl.Diagnostics {
	var diags hcl.Diagnostics
	// Providers quote what they refuse and know nothing of marks.
	secrets := append(funcs.SensitiveTexts(c.After, c.SensitivePaths), funcs.SensitiveTexts(c.Before, c.SensitivePaths)...)
	for _, d := range pd {
		sev := hcl.DiagError
		if d.Severity == providers.Warning {
			sev = hcl.DiagWarning
		}
		detail := funcs.Redact(d.Detail, secrets)
		if detail != "" {
			detail += "\n\n"
		}
		detail += fmt.Sprintf("(from provider %q, applying %s)", c.Provider, c.Addr)
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Summary: funcs.Redact(d.Summary, secrets), Detail: detail})
	}
	return diags
}
