package planner

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/internal/suggest"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/dag"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// RunbookRequest asks Plan for the plan of a runbook run instead of the
// configuration's changes.
type RunbookRequest struct {
	Name string
	// Kind is failover, failback or run. A failback also gives back what
	// the failovers in force hold, after its own steps; a failback whose
	// runbook the configuration lacks does only that.
	Kind string
	// Measured is, by step name, the longest a step took in the runs
	// recorded: the rto budget counts it for a step without a timeout.
	Measured map[string]time.Duration
	// AllowOverBudget turns the budget errors into warnings.
	AllowOverBudget bool
	// Drill plans a drill of the runbook: every step, whatever earlier
	// runs did, acting on clones (plan.Runbook.Drill); nothing in force is
	// given back.
	Drill bool
	// LastDrill is when the last successful drill of the runbook ended,
	// zero when none is recorded: held against the drill block's max_age.
	LastDrill time.Time
}

// The providers and actions runbook steps invoke.
const (
	coreProvider     = "core"
	diskProvider     = "disk"
	registryProvider = "registry"
	vmProvider       = "vm"
)

// UndoDir is the folder on a step's host where runbook imports keep their
// undo files, one per runbook and step.
const UndoDir = "/var/lib/drover/runbooks"

// planRunbook evaluates the steps of the requested runbook over the
// refreshed state: what each does on which host, in wave order, the steps
// an unfinished earlier run finished marked skipped.
func (r *run) planRunbook(ctx context.Context, req *RunbookRequest) (*plan.Runbook, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	rb := r.cfg.Runbooks[req.Name]
	out := &plan.Runbook{Name: req.Name, Kind: req.Kind, Steps: []*plan.Step{}}
	if req.Kind == "failback" && !req.Drill {
		var d hcl.Diagnostics
		out.Release, d = r.releases(ctx, req.Name)
		diags = append(diags, d...)
	}
	if rb == nil {
		if req.Kind == "failback" {
			if len(out.Release) == 0 {
				return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nothing to fail back",
					Detail: fmt.Sprintf("The configuration has no runbook %q and no failover is in force in the state; `drover runbook status` shows what is.", req.Name)})
			}
			return out, diags
		}
		detail := fmt.Sprintf("The configuration has no runbook %q.", req.Name)
		names := slices.Sorted(maps.Keys(r.cfg.Runbooks))
		if s := suggest.Nearest(req.Name, names); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		} else if len(names) > 0 {
			detail += " Its runbooks are: " + strings.Join(names, ", ") + "."
		}
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown runbook", Detail: detail})
	}
	if req.Drill {
		rb = rb.ForDrill()
	}
	out.LastDrill = req.LastDrill
	scope := r.scope(lang.Instance{})
	// step.NAME is the outcome of a step of this run: known for the
	// steps an unfinished run (this one, when a step is planned again as
	// it runs) recorded in the state.
	steps := map[string]cty.Value{}
	if prior := r.refreshed.Runbooks[rb.Name]; prior != nil && !prior.Done && !req.Drill {
		for n, st := range prior.Steps {
			if st.Status != state.StepStarted { // an interrupted step runs again
				steps[n] = cty.ObjectVal(map[string]cty.Value{"status": cty.StringVal(string(st.Status))})
			}
		}
	}
	exps := map[string]expansion{}
	insts := &instanceIndex{}
	scope.Data = runbookData{values: r.vals, steps: steps, exps: exps, insts: insts,
		refs: map[*lang.Step][]lang.StepRef{}, hosts: map[*lang.Step]cty.Value{}, afters: map[*lang.Step][]string{}}
	var d hcl.Diagnostics
	out.RPO, d = evalDuration(scope, rb.RPO)
	diags = append(diags, d...)
	out.RTO, d = evalDuration(scope, rb.RTO)
	diags = append(diags, d...)

	var prior *state.Runbook
	if inForce := r.refreshed.Runbooks[rb.Name]; inForce != nil && !req.Drill {
		prior = inForce
		if !inForce.Done {
			out.Continues = inForce.RunID
		}
	}
	// Every step expands into its instances before any is planned: the
	// after lists and step.NAME references of the others name them.
	names := slices.Sorted(maps.Keys(rb.Steps))
	for _, name := range names {
		s := rb.Steps[name]
		exp, d := expand(scope, s.Count, s.ForEach)
		diags = append(diags, d...)
		if !d.HasErrors() {
			exps[name] = exp
		}
	}
	insts.index(names, exps)
	for _, name := range names {
		exp, ok := exps[name]
		if !ok {
			continue
		}
		for _, key := range exp.keys {
			is := *scope
			is.Instance = exp.instance(key)
			s, d := r.planStep(ctx, &is, rb, rb.Steps[name], lang.StepID(name, key))
			diags = append(diags, d...)
			if s == nil {
				continue
			}
			if prior != nil {
				if st := prior.Steps[s.Name]; st != nil && st.Status == state.StepSucceeded {
					s.Skip = "finished in run " + prior.RunID
					if prior.Done {
						s.Skip += ", which is in force"
					}
				}
			}
			out.Steps = append(out.Steps, s)
		}
	}
	if !diags.HasErrors() {
		diags = append(diags, instanceWaves(rb, out.Steps)...)
	}
	slices.SortStableFunc(out.Steps, func(a, b *plan.Step) int { return a.Wave - b.Wave })
	diags = append(diags, drillAge(scope, rb, req.LastDrill)...)
	if req.Drill && !diags.HasErrors() {
		diags = append(diags, r.planDrill(ctx, scope, rb, out)...)
	}
	if !diags.HasErrors() {
		diags = append(diags, r.checkBudgets(rb, out, req)...)
	}
	return out, diags
}

// releases lists what the failovers in force hold, for a failback: by
// runbook name, and within a runbook in the reverse of the order its steps
// ran (the later wave first, as the configuration's runbook orders them),
// so that what a step took relying on an earlier one is given back before
// that one's is (the replica guest stopped before the fence around its
// source is lifted).
func (r *run) releases(ctx context.Context, failback string) ([]*plan.Release, hcl.Diagnostics) {
	var out []*plan.Release
	var diags hcl.Diagnostics
	for _, rb := range r.refreshed.SortedRunbooks() {
		if rb.Kind == "failback" || rb.Name == failback {
			continue
		}
		steps := rb.SortedSteps()
		if cfg := r.cfg.Runbooks[rb.Name]; cfg != nil {
			waves := stepWaves(cfg)
			slices.SortStableFunc(steps, func(a, b string) int { return waves[stepName(b)] - waves[stepName(a)] })
		}
		for _, sn := range steps {
			rel := rb.Steps[sn].Release
			if rel == nil {
				continue
			}
			pr := &plan.Release{Runbook: rb.Name, Step: sn, Summary: rel.Summary}
			if len(rel.Resources) > 0 {
				var d hcl.Diagnostics
				pr.Destroy, d = r.heldDeletes(ctx, rel.Resources)
				diags = append(diags, d...)
				if len(pr.Destroy) == 0 {
					continue // gone already
				}
			} else {
				pr.Invoke = plan.Invoke{Provider: rel.Provider, Action: rel.Action, Args: rel.Args}
			}
			out = append(out, pr)
		}
	}
	return out, diags
}

// stepName is the name of the step of which id (a StepID) is an instance.
func stepName(id string) string {
	if name, _, err := lang.ParseStepID(id); err == nil {
		return name
	}
	return id
}

// stepWaves gives each step its depth in the after graph of steps, for
// ordering what failovers in force give back: 0 for a step that waits for
// none, one more than the deepest it waits for otherwise. A step waiting
// for instances of its own (step.x[count.index - 1]) or of a step that
// waits for some of its own is ordered as well as the steps allow; the
// plan's waves are its instances' (instanceWaves).
func stepWaves(rb *lang.Runbook) map[string]int {
	waves := map[string]int{}
	var depth func(string) int
	depth = func(n string) int {
		if w, ok := waves[n]; ok {
			return w
		}
		waves[n] = 0 // while its own are visited: a loop through instances ends here
		w := 0
		for _, t := range rb.Steps[n].After {
			if t.Name != n && rb.Steps[t.Name] != nil {
				w = max(w, depth(t.Name)+1)
			}
		}
		waves[n] = w
		return w
	}
	for n := range rb.Steps {
		depth(n)
	}
	return waves
}

// instanceWaves sets the wave of every planned step instance: its depth
// in the graph its after lists make (0 for one that waits for none, one
// more than the deepest it waits for otherwise), so that the plan shows
// the order the run follows, instance by instance. Instances that wait
// for each other are reported as a cycle: lang refuses the cycles of
// whole steps when it loads them, the ones through single instances
// (step.x[0], step.x[count.index - 1]) show only here.
func instanceWaves(rb *lang.Runbook, steps []*plan.Step) hcl.Diagnostics {
	at := make(map[string]int, len(steps))
	for i, s := range steps {
		at[s.Name] = i
	}
	// depth is -1 until a step is visited, -2 while its after list is.
	depth := make([]int, len(steps))
	for i := range depth {
		depth[i] = -1
	}
	// The instances of a step share their after list (see
	// runbookData.after), whose depth is found once: a list is known by
	// its first element's address and its length.
	type list struct {
		first *string
		n     int
	}
	listDepth := map[list]int{}
	cyclic := false
	var visit func(i int) int
	visit = func(i int) int {
		switch depth[i] {
		case -2:
			cyclic = true
			return 0
		case -1:
		default:
			return depth[i]
		}
		depth[i] = -2
		w, after := 0, steps[i].After
		if len(after) > 0 {
			k := list{&after[0], len(after)}
			var ok bool
			if w, ok = listDepth[k]; !ok {
				for _, a := range after {
					if j, ok := at[a]; ok {
						w = max(w, visit(j)+1)
					}
				}
				listDepth[k] = w
			}
		}
		depth[i], steps[i].Wave = w, w
		return w
	}
	for i := range steps {
		visit(i)
	}
	if !cyclic {
		return nil
	}
	g := dag.New[string]()
	for _, s := range steps {
		g.Add(s.Name)
		for _, a := range s.After {
			if _, ok := at[a]; ok {
				g.Connect(s.Name, a)
			}
		}
	}
	var diags hcl.Diagnostics
	for _, c := range g.Cycles() {
		st := rb.Steps[stepName(c[0])]
		var subject *hcl.Range
		if st.AfterExpr != nil {
			subject = st.AfterExpr.Range().Ptr()
		}
		for _, ref := range st.After {
			if subject == nil && slices.ContainsFunc(c, func(id string) bool { return stepName(id) == ref.Name }) {
				subject = ref.Range.Ptr()
			}
		}
		detail := fmt.Sprintf("In runbook %q, step.%s wait for each other through after, so none of them can start. Remove one of the after entries between them.", rb.Name, strings.Join(c, ", step."))
		if len(c) == 1 {
			detail = fmt.Sprintf("In runbook %q, step.%s waits for itself through after, so it can never start.", rb.Name, c[0])
		}
		switch {
		case len(c) > 1 && !slices.ContainsFunc(c[1:], func(id string) bool { return stepName(id) == stepName(c[0]) }):
		case st.Count != nil:
			detail += fmt.Sprintf(" An instance may wait for other instances of its step, never for itself: to run each after the one before, write after = count.index > 0 ? [step.%s[count.index - 1]] : [].", stepName(c[0]))
		default:
			detail += " An instance may wait for other instances of its step, never for itself."
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle between runbook steps", Detail: detail, Subject: subject})
	}
	return diags
}

// planStep plans the instance id of step s, scope seeing its key.
func (r *run) planStep(ctx context.Context, scope *lang.Scope, rb *lang.Runbook, s *lang.Step, id string) (*plan.Step, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	ps := &plan.Step{Name: id, OnFailure: lang.OnFailureChoices[0]}
	fail := func(subject hcl.Expression, summary, format string, args ...any) (*plan.Step, hcl.Diagnostics) {
		rng := s.DeclRange
		if subject != nil {
			rng = subject.Range()
		}
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
			Detail: fmt.Sprintf("In step %q of runbook %q: ", id, rb.Name) + fmt.Sprintf(format, args...), Subject: rng.Ptr()})
	}
	data := scope.Data.(runbookData)
	var d hcl.Diagnostics
	if ps.After, d = data.after(scope, rb, s, id); d.HasErrors() {
		return nil, append(diags, d...)
	}
	if len(s.Resources) > 0 {
		ps.Action = plan.StepResources
		changes, d := r.planStepResources(ctx, rb, s)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		ps.Changes = changes
		var parts []string
		for _, c := range changes {
			parts = append(parts, strings.TrimSpace(c.Action.String()+" "+c.Addr.String()))
		}
		ps.Summary = "hold " + strings.Join(parts, ", ")
		return ps, append(diags, d...)
	}
	if d := refersBefore(rb, s, id, ps.After, data.stepRefs(s)); d.HasErrors() {
		return nil, append(diags, d...)
	}
	if waiting := unknownSteps(scope, s); len(waiting) > 0 {
		// Planned again when it runs, once those steps have ended.
		ps.Action, ps.Deferred = stepAction(s), true
		ps.Summary = fmt.Sprintf("%s, as it stands when step.%s has run", ps.Action, strings.Join(waiting, ", step."))
		return ps, diags
	}
	var hostVal cty.Value
	if s.Host != nil {
		v, ok := data.hosts[s]
		if !ok {
			var d hcl.Diagnostics
			v, d = scope.EvalExpr(s.Host, cty.DynamicPseudoType)
			diags = append(diags, d...)
			if d.HasErrors() {
				return nil, diags
			}
			v, _ = v.UnmarkDeep()
			if !v.Type().IsObjectType() || !v.Type().HasAttribute("name") || !v.IsWhollyKnown() {
				return fail(s.Host, "Invalid host argument", "host must name a host, like host.fs2.")
			}
			if sameForInstances(s.Host) {
				data.hosts[s] = v
			}
		}
		hostVal = v
		ps.Host = v.GetAttr("name").AsString()
	}
	if ps.Timeout, d = evalDuration(scope, s.Timeout); d.HasErrors() {
		return nil, append(diags, d...)
	}
	if ps.RetryDelay, d = evalDuration(scope, s.RetryDelay); d.HasErrors() {
		return nil, append(diags, d...)
	}
	if s.Retries != nil {
		v, d := evalKnown(scope, s.Retries, cty.Number)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		n, _ := v.AsBigFloat().Int64()
		ps.Retries = int(n)
	}
	if s.OnFailure != nil {
		v, d := evalKnown(scope, s.OnFailure, cty.String)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		ps.OnFailure = v.AsString()
	}
	needHost := func(what string) bool {
		if hostVal != cty.NilVal {
			return true
		}
		_, diags = fail(nil, "Step needs a host", "a %s step acts on a host: set host, like host = host.fs2.", what)
		return false
	}
	switch {
	case s.Run != nil:
		ps.Action = plan.StepRun
		if !needHost("run") {
			return nil, diags
		}
		argv, d := evalKnown(scope, s.Run, cty.List(cty.String))
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		env := cty.NullVal(cty.Map(cty.String))
		if s.Env != nil {
			if env, d = evalKnown(scope, s.Env, cty.Map(cty.String)); d.HasErrors() {
				return nil, append(diags, d...)
			}
		}
		dir := cty.NullVal(cty.String)
		if s.Dir != nil {
			if dir, d = evalKnown(scope, s.Dir, cty.String); d.HasErrors() {
				return nil, append(diags, d...)
			}
		}
		var words []string
		for _, a := range argv.AsValueSlice() {
			words = append(words, shellWord(a.AsString()))
		}
		ps.Summary = "run " + strings.Join(words, " ") + " on " + ps.Host
		ps.Invoke = plan.Invoke{Provider: coreProvider, Action: "run", Args: cty.ObjectVal(map[string]cty.Value{
			"host": hostVal, "argv": argv, "env": env, "dir": dir})}
	case s.Wait != nil:
		ps.Action = plan.StepWait
		w, d := evalDuration(scope, s.Wait)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		ps.Summary = "wait " + w.String()
		ps.Invoke = plan.Invoke{Provider: coreProvider, Action: "wait", Args: cty.ObjectVal(map[string]cty.Value{
			"duration": cty.StringVal(w.String())})}
	case s.Prompt != nil:
		ps.Action = plan.StepPrompt
		q, d := evalKnown(scope, s.Prompt, cty.String)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		ps.Prompt = q.AsString()
		ps.Summary = "ask " + strconv.Quote(ps.Prompt)
	case s.Import != nil:
		ps.Action = plan.StepImport
		inst, d := r.stepResource(s.Import, s, rb)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		attrs, _ := inst.Attrs.UnmarkDeep()
		if hostVal == cty.NilVal {
			hostVal = attrs.GetAttr("host")
			ps.Host = hostVal.GetAttr("name").AsString()
		}
		file := attrs.GetAttr("file").AsString()
		from := attrs.GetAttr("host").GetAttr("name").AsString()
		if from != ps.Host {
			arrived, ok := r.replicaPath(from, file, ps.Host)
			if !ok {
				return fail(s.Import, "Capture does not reach the step's host",
					"%s writes %s on host %q, and no replication set in the state carries it to host %q. Add a replication set whose source holds the file and whose target is on %q, apply it, and plan again.",
					inst.Addr, file, from, ps.Host, ps.Host)
			}
			file = arrived
		}
		undo := path.Join(UndoDir, rb.Name, id+".undo.reg")
		location := func(file, undo string) cty.Value {
			return cty.ObjectVal(map[string]cty.Value{"host": hostVal, "hive": attrs.GetAttr("hive"), "prefix": attrs.GetAttr("prefix"),
				"file": cty.StringVal(file), "undo": cty.StringVal(undo)})
		}
		ps.Summary = fmt.Sprintf("import %s (%s) into the registry of %s, keeping the undo file %s", inst.Addr, file, ps.Host, undo)
		ps.Invoke = plan.Invoke{Provider: registryProvider, Action: "registry_import", Args: location(file, undo)}
		ps.Release = &plan.Invoke{Provider: registryProvider, Action: "registry_import",
			Args: location(undo, strings.TrimSuffix(undo, ".undo.reg")+".failback.undo.reg")}
		ps.ReleaseSummary = fmt.Sprintf("import the undo file %s into the registry of %s", undo, ps.Host)
	case s.Stop != nil:
		// A fence: the guest stops before what the runbook starts in its
		// place, and starts again on failback, after that is stopped.
		ps.Action = plan.StepStop
		inst, d := r.stepResource(s.Stop, s, rb)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		attrs, _ := inst.Attrs.UnmarkDeep()
		ps.Host = attrs.GetAttr("host").GetAttr("name").AsString()
		ps.Summary = fmt.Sprintf("stop %s on %s (fence)", inst.Addr, ps.Host)
		ps.Invoke = plan.Invoke{Provider: vmProvider, Action: "guest_stop", Args: attrs}
		ps.Release = &plan.Invoke{Provider: vmProvider, Action: "guest_start", Args: attrs}
		ps.ReleaseSummary = fmt.Sprintf("start %s on %s again", inst.Addr, ps.Host)
	case s.SetDefault != nil || s.SetNext != nil:
		expr, action := s.SetDefault, plan.StepSetDefault
		if expr == nil {
			expr, action = s.SetNext, plan.StepSetNext
		}
		ps.Action = action
		inst, d := r.stepResource(expr, s, rb)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		attrs, _ := inst.Attrs.UnmarkDeep()
		entryHost := attrs.GetAttr("host")
		ps.Host = entryHost.GetAttr("name").AsString()
		args := map[string]cty.Value{}
		for _, name := range []string{"host", "loader", "file", "path", "label"} {
			if attrs.Type().HasAttribute(name) {
				args[name] = attrs.GetAttr(name)
			}
		}
		ps.Invoke = plan.Invoke{Provider: diskProvider, Action: "boot_" + action, Args: cty.ObjectVal(args)}
		ps.Summary = fmt.Sprintf("make %s the default boot entry of %s", inst.Addr, ps.Host)
		if action == plan.StepSetNext {
			ps.Summary = fmt.Sprintf("make %s boot once, at the next boot of %s", inst.Addr, ps.Host)
		}
		if s.Reboot != nil {
			v, d := evalKnown(scope, s.Reboot, cty.Bool)
			if d.HasErrors() {
				return nil, append(diags, d...)
			}
			if v.True() {
				rargs := map[string]cty.Value{"host": entryHost}
				if ps.Timeout > 0 {
					// Probe some twenty times within the step's time, at
					// most every 5s (the action's default interval).
					rargs["timeout"] = cty.StringVal(ps.Timeout.String())
					rargs["interval"] = cty.StringVal(min(max(ps.Timeout/20, 100*time.Millisecond), 5*time.Second).String())
				}
				for name, expr := range map[string]hcl.Expression{"command": s.RebootCommand, "probe": s.RebootProbe} {
					if expr != nil {
						if rargs[name], d = evalKnown(scope, expr, cty.List(cty.String)); d.HasErrors() {
							return nil, append(diags, d...)
						}
					}
				}
				ps.Reboot = &plan.Invoke{Provider: diskProvider, Action: "host_reboot", Args: cty.ObjectVal(rargs)}
				ps.Summary += ", then reboot it and wait until it is back"
			}
		}
	case s.Check != nil:
		ps.Action = plan.StepCheck
		v, d := evalKnown(scope, s.Check, cty.Bool)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		holds := v.True()
		ps.Check = &holds
		now := "does not hold now"
		if holds {
			now = "holds now"
		}
		ps.Summary = fmt.Sprintf("check %s (%s)", exprText(r.cfg, s.Check), now)
	case len(s.Checks) > 0:
		ps.Action = plan.StepCheck
		checks, d := r.planAssertions(scope, rb, s, "check", s.Checks, hostVal)
		if d.HasErrors() {
			return nil, append(diags, d...)
		}
		ps.Checks = checks
		ps.Summary = assertionsSummary(checks)
	case s.Reboot != nil:
		return fail(s.Reboot, "Reboot needs a boot switch", "reboot accompanies set_default or set_next.")
	}
	if ps.Preconditions, d = r.planAssertions(scope, rb, s, "precondition", s.Preconditions, hostVal); d.HasErrors() {
		return nil, append(diags, d...)
	}
	if ps.Postconditions, d = r.planAssertions(scope, rb, s, "postcondition", s.Postconditions, hostVal); d.HasErrors() {
		return nil, append(diags, d...)
	}
	return ps, diags
}

// stepResource finds the state object of the resource expr names.
func (r *run) stepResource(expr hcl.Expression, s *lang.Step, rb *lang.Runbook) (*state.Instance, hcl.Diagnostics) {
	refs, diags := lang.ExprRefs(expr)
	if diags.HasErrors() || len(refs) != 1 || refs[0].Kind != lang.RefResource {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid resource reference",
			Detail: "Name a resource of the configuration, like registry_capture.product.", Subject: expr.Range().Ptr()})
	}
	addr := refs[0].Resource
	insts := r.byResource[addr]
	if len(insts) != 1 || insts[0].Attrs.IsNull() || !insts[0].Attrs.IsWhollyKnown() {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Resource not applied",
			Detail: fmt.Sprintf("Step %q of runbook %q acts on %s, which the state does not hold (or holds more than one of): run `drover apply` first, then plan the runbook again.",
				s.Name, rb.Name, addr),
			Subject: expr.Range().Ptr()}}
	}
	return insts[0], nil
}

// replicaPath finds where a replication set in the state carries file,
// on host from, to host to: the target folder holds each source by its
// full path (target /replica/fs1 keeps fs1:/srv/repset as
// /replica/fs1/srv/repset).
func (r *run) replicaPath(from, file, to string) (string, bool) {
	for _, inst := range r.byResource {
		for _, i := range inst {
			if i.Addr.Resource.Type != "replication_set" || i.Addr.Resource.Mode != addrs.Managed {
				continue
			}
			attrs, _ := i.Attrs.UnmarkDeep()
			if !attrs.IsWhollyKnown() || attrs.IsNull() {
				continue
			}
			target := attrs.GetAttr("target")
			if target.IsNull() || target.GetAttr("host").GetAttr("name").AsString() != to {
				continue
			}
			for _, src := range attrs.GetAttr("source").AsValueSlice() {
				p := src.GetAttr("path").AsString()
				if src.GetAttr("host").GetAttr("name").AsString() == from && (file == p || strings.HasPrefix(file, strings.TrimSuffix(p, "/")+"/")) {
					return path.Join(target.GetAttr("path").AsString(), file), true
				}
			}
		}
	}
	return "", false
}

// evalKnown evaluates expr into a known, non-null value of ty.
func evalKnown(scope *lang.Scope, expr hcl.Expression, ty cty.Type) (cty.Value, hcl.Diagnostics) {
	v, diags := scope.EvalExpr(expr, cty.DynamicPseudoType)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() || v.IsNull() {
		return cty.NilVal, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value not known",
			Detail: "This runbook argument depends on values not known yet (an unapplied resource): apply first, then plan the runbook.", Subject: expr.Range().Ptr()})
	}
	c, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid runbook argument",
			Detail: fmt.Sprintf("It must be a %s: %s.", ty.FriendlyName(), err), Subject: expr.Range().Ptr()})
	}
	return c, diags
}

// evalDuration evaluates an optional duration argument; zero when unset.
func evalDuration(scope *lang.Scope, expr hcl.Expression) (time.Duration, hcl.Diagnostics) {
	if expr == nil {
		return 0, nil
	}
	v, diags := evalKnown(scope, expr, cty.String)
	if diags.HasErrors() {
		return 0, diags
	}
	d, err := time.ParseDuration(v.AsString())
	if err != nil || d <= 0 {
		return 0, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid duration",
			Detail: fmt.Sprintf("%q is not a positive duration like \"90s\" or \"15m\".", v.AsString()), Subject: expr.Range().Ptr()})
	}
	return d, diags
}

// shellWord quotes an argv element for showing, not for running: steps
// run their argv directly, never through a shell.
func shellWord(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`;&|<>(){}*?[]#~!") {
		return s
	}
	return strconv.Quote(s)
}

// StepPlanner plans a step of a runbook run again when it runs, over a
// fresh refresh of the state as the run has it: a check's condition then
// sees what the steps before it changed, and a step referring to others
// (step.NAME) sees how they ended.
type StepPlanner struct {
	cfg  *lang.Config
	opts Options
}

// NewStepPlanner makes the StepPlanner of a runbook run.
func NewStepPlanner(cfg *lang.Config, opts Options) *StepPlanner {
	return &StepPlanner{cfg: cfg, opts: opts}
}

// PlanStep plans the runbook again over current and returns its step.
func (c *StepPlanner) PlanStep(ctx context.Context, runbook, kind, step string, current *state.State) (*plan.Step, hcl.Diagnostics) {
	opts := c.opts
	opts.Hooks = nil
	// A drill's step is planned again as the drill plans it: its
	// overrides and drill-only steps, acting on clones.
	opts.Runbook = &RunbookRequest{Name: runbook, Kind: kind, AllowOverBudget: true, Drill: c.opts.Runbook != nil && c.opts.Runbook.Drill}
	p, diags := Plan(ctx, c.cfg, current, opts)
	if diags.HasErrors() || p == nil || p.Runbook == nil {
		return nil, diags
	}
	for _, s := range p.Runbook.Steps {
		if s.Name == step {
			return s, diags
		}
	}
	return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step gone",
		Detail: fmt.Sprintf("Runbook %q has no step %q any more. Plan again.", runbook, step)})
}

// exprText is the source text of expr, for showing.
func exprText(cfg *lang.Config, expr hcl.Expression) string {
	rng := expr.Range()
	if f := cfg.Files[rng.Filename]; f != nil {
		return strings.TrimSpace(string(rng.SliceBytes(f.Bytes)))
	}
	return "the condition"
}

// planStepResources plans the creation of a step's resources as apply
// plans any resource: through a plan of the configuration with the step's
// resources at the top level, targeted at them. They must depend only on
// what is applied already.
func (r *run) planStepResources(ctx context.Context, rb *lang.Runbook, s *lang.Step) ([]*plan.Change, hcl.Diagnostics) {
	sub := *r.cfg
	sub.Resources = maps.Clone(r.cfg.Resources)
	sub.Runbooks = map[string]*lang.Runbook{}
	sub.Moved, sub.Imports, sub.Removed = nil, nil, nil
	opts := r.opts
	opts.Runbook, opts.Mode, opts.Hooks, opts.Targets, opts.Replace = nil, plan.Normal, nil, nil, nil
	for addr, res := range s.Resources {
		sub.Resources[addr] = res
		opts.Targets = append(opts.Targets, addrs.Instance{Resource: addr})
	}
	p, all := Plan(ctx, &sub, r.refreshed, opts)
	// The targets are how the step's resources are planned alone, not the
	// user's --target: the warning that a plan is targeted does not apply.
	// A fenced resource they depend on is stopped as the runbook wants it,
	// its change (a start) is not theirs to make.
	var diags hcl.Diagnostics
	for _, d := range all {
		if d.Summary != targetingSummary && d.Summary != fencedSummary {
			diags = append(diags, d)
		}
	}
	if diags.HasErrors() || p == nil {
		return nil, diags
	}
	fences := r.fences()
	var out []*plan.Change
	for _, c := range p.Changes {
		if _, held := s.Resources[c.Addr.Resource]; held {
			out = append(out, c)
			continue
		}
		if _, fenced := fences[c.Addr.Resource]; c.Action != plan.NoOp && !fenced {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step resources depend on unapplied changes",
				Detail: fmt.Sprintf("The resources of step %q of runbook %q depend on %s, which has changes to apply: run `drover apply` first, then plan the runbook again.",
					s.Name, rb.Name, c.Addr),
				Subject: s.DeclRange.Ptr()})
		}
	}
	return out, diags
}

// heldDeletes plans the deletion of the step resources at addresses that
// the state still holds, each described by its provider as any planned
// delete is (what a network_identity gives back, say).
func (r *run) heldDeletes(ctx context.Context, addresses []string) ([]*plan.Change, hcl.Diagnostics) {
	var out []*plan.Change
	var diags hcl.Diagnostics
	for _, a := range addresses {
		addr, err := addrs.ParseInstance(a)
		if err != nil {
			continue
		}
		inst := r.refreshed.Instances[addr]
		if inst == nil {
			continue
		}
		c, d := r.deleteChange(ctx, inst, plan.ReasonNone)
		out, diags = append(out, c), append(diags, d...)
	}
	return out, diags
}

// fence is a resource a stop step of a runbook in force holds stopped.
type fence struct {
	runbook, step, runID string
}

// fencedSummary is the summary of the error that a plan would change a
// fenced resource.
const fencedSummary = "Resource fenced by a runbook in force"

// fences lists the resources that the stop steps of the runbooks in force
// (finished or not) hold stopped until failback.
func (r *run) fences() map[addrs.Resource]fence {
	out := map[addrs.Resource]fence{}
	for _, rb := range r.refreshed.SortedRunbooks() {
		cfg := r.cfg.Runbooks[rb.Name]
		if cfg == nil {
			continue
		}
		for _, sn := range rb.SortedSteps() {
			s := cfg.Steps[stepName(sn)]
			if s == nil || s.Stop == nil || rb.Steps[sn].Release == nil {
				continue
			}
			if refs, d := lang.ExprRefs(s.Stop); !d.HasErrors() && len(refs) == 1 && refs[0].Kind == lang.RefResource {
				out[refs[0].Resource] = fence{runbook: rb.Name, step: sn, runID: rb.RunID}
			}
		}
	}
	return out
}

// fencedChanges refuses the changes of a plan to the resources that a
// runbook in force fences: a guest a stop step stopped stays stopped until
// failback starts it again, since what the runbook started in its place
// runs meanwhile (two copies of one server on one network).
func (r *run) fencedChanges() hcl.Diagnostics {
	var diags hcl.Diagnostics
	fences := r.fences()
	for _, c := range r.changes {
		f, ok := fences[c.Addr.Resource]
		if !ok || c.Action == plan.NoOp {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fencedSummary,
			Detail: fmt.Sprintf("%s is stopped by step %q of runbook %q (run %s), which holds it stopped until failback: changing it now (%s) could start it while what the runbook started in its place runs. Run `drover failback` first, which starts it again.",
				c.Addr, f.step, f.runbook, f.runID, c.Action.Verb()),
			Subject: r.resourceRange(c.Addr.Resource).Ptr()})
	}
	return diags
}

// heldByRunbook reports whether a step of a runbook declares addr: its
// objects are held while the runbook is in force, not orphans.
func heldByRunbook(cfg *lang.Config, addr addrs.Resource) bool {
	for _, rb := range cfg.Runbooks {
		for _, s := range rb.Steps {
			if _, ok := s.Resources[addr]; ok {
				return true
			}
		}
	}
	return false
}

// runbookData answers step.NAME besides what the configuration's values
// answer: an object with the step's status, unknown until it has one; for
// a step with count, a tuple of them, and with for_each, an object of
// them by key.
type runbookData struct {
	*values
	// steps holds the outcomes known, by StepID; exps the instances of
	// each step, by step name.
	steps map[string]cty.Value
	exps  map[string]expansion
	insts *instanceIndex
	// refs holds stepRefs' answers, by step; hosts the host of each step
	// whose host is the same for all its instances, once read.
	refs  map[*lang.Step][]lang.StepRef
	hosts map[*lang.Step]cty.Value
	// afters holds the after list of each step without an after
	// expression, the same for all its instances: they share it, and the
	// run's record and report encode a shared list once.
	afters map[*lang.Step][]string
}

// sameForInstances reports whether e has one value for every instance of
// its step: a plain reference (host.fs2) to neither count nor each. A
// host value read whole (unmarked, checked known) was a third of planning
// each instance of a step with count = 100.
func sameForInstances(e hcl.Expression) bool {
	t, d := hcl.AbsTraversalForExpr(e)
	return !d.HasErrors() && t.RootName() != "count" && t.RootName() != "each"
}

// stepRefs lists the step.NAME references in s's arguments (its checks'
// included), found once for all of s's instances.
func (d runbookData) stepRefs(s *lang.Step) []lang.StepRef {
	if refs, ok := d.refs[s]; ok {
		return refs
	}
	var out []lang.StepRef
	for _, e := range stepExprs(s) {
		if e == nil {
			continue
		}
		refs, _ := lang.ExprRefs(e)
		for _, ref := range refs {
			if ref.Kind == lang.RefStep {
				out = append(out, lang.StepRefOf(ref))
			}
		}
	}
	d.refs[s] = out
	return out
}

// instanceIndex numbers the instances of a runbook's steps, for resolving
// after lists (a step of a large runbook names hundreds) without building
// instance names again for each.
type instanceIndex struct {
	// place is each step's place in name order; ids the StepIDs of the
	// instances of the step at each place, in key order (none for a step
	// whose expansion failed).
	place map[string]int
	ids   [][]string
	// byID is the pick (instancePick) of every instance, by StepID.
	byID map[string]int64
	// vals holds what after expressions see of each step (afterData).
	vals map[string]cty.Value
}

// A pick is an instance as a number, place<<32 | position in key order:
// picks sort in the order the plan lists after entries.
func instancePick(place, pos int) int64 { return int64(place)<<32 | int64(pos) }

func (x *instanceIndex) index(names []string, exps map[string]expansion) {
	x.place = make(map[string]int, len(names))
	x.ids = make([][]string, len(names))
	x.byID = map[string]int64{}
	x.vals = map[string]cty.Value{}
	for p, name := range names {
		x.place[name] = p
		exp, ok := exps[name]
		if !ok {
			continue
		}
		x.ids[p] = make([]string, len(exp.keys))
		for i, k := range exp.keys {
			x.ids[p][i] = lang.StepID(name, k)
			x.byID[x.ids[p][i]] = instancePick(p, i)
		}
	}
}

func (x *instanceIndex) id(pick int64) string { return x.ids[pick>>32][pick&(1<<32-1)] }

// stepIDMark marks the StepIDs an after expression evaluates to, telling
// them from strings written in it.
type stepIDMark struct{}

// afterData answers step.NAME in an after expression: the StepIDs of the
// step's instances, marked, shaped as step.NAME is elsewhere (a tuple with
// count, an object with for_each), so that an index picks one.
type afterData struct{ runbookData }

func (d afterData) Step(name string) cty.Value {
	// Made once for the plan: each of a chain of 1,000 instances
	// (step.x[count.index - 1]) would otherwise make all 1,000 again.
	if v, ok := d.insts.vals[name]; ok {
		return v
	}
	v := d.stepIDs(name)
	d.insts.vals[name] = v
	return v
}

func (d afterData) stepIDs(name string) cty.Value {
	exp, ok := d.exps[name]
	if !ok {
		return cty.NilVal // not a step: lang has said so
	}
	ids := d.insts.ids[d.insts.place[name]]
	vals := make([]cty.Value, len(ids))
	for i, id := range ids {
		vals[i] = cty.StringVal(id).Mark(stepIDMark{})
	}
	switch exp.kind {
	case expandCount:
		return cty.TupleVal(vals)
	case expandForEach:
		m := make(map[string]cty.Value, len(vals))
		for i, k := range exp.keys {
			m[k.Str] = vals[i]
		}
		return cty.ObjectVal(m)
	}
	return vals[0]
}

// after lists the instances that instance id of step s (scope seeing its
// key) waits for, by step name and then key, each once. The list is
// shared by s's instances where it is the same for all: callers only read
// it.
func (d runbookData) after(scope *lang.Scope, rb *lang.Runbook, s *lang.Step, id string) ([]string, hcl.Diagnostics) {
	if len(s.After) == 0 {
		return nil, nil
	}
	if l, ok := d.afters[s]; ok {
		return l, nil
	}
	picks := make([]int64, 0, len(s.After))
	if s.AfterExpr == nil {
		for _, ref := range s.After {
			exp, ok := d.exps[ref.Name]
			if !ok {
				continue // its expansion failed, and said so
			}
			p := d.insts.place[ref.Name]
			if ref.Key == nil {
				for i := range exp.keys {
					picks = append(picks, instancePick(p, i))
				}
				continue
			}
			i := exp.position(*ref.Key)
			if i < 0 {
				return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No such step instance",
					Detail: fmt.Sprintf("In step %q of runbook %q: after names %s, which is not an instance of step %q (%s). Name one of its instances, or step.%s for all of them.",
						id, rb.Name, "step."+lang.StepID(ref.Name, *ref.Key), ref.Name, exp.describe(), ref.Name),
					Subject: ref.Range.Ptr()}}
			}
			picks = append(picks, instancePick(p, i))
		}
	} else {
		for _, ref := range s.After {
			if _, ok := d.exps[ref.Name]; !ok {
				return nil, nil // its expansion failed, and said so
			}
		}
		as := *scope
		as.Data = afterData{d}
		v, diags := as.EvalExpr(s.AfterExpr, cty.DynamicPseudoType)
		if diags.HasErrors() {
			return nil, diags
		}
		invalid := func(what string) hcl.Diagnostics {
			return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid after entry",
				Detail:  fmt.Sprintf("In step %q of runbook %q: after gives %s, not steps. It lists steps, like step.prepare, or instances of a repeated step, like step.check[count.index - 1].", id, rb.Name, what),
				Subject: s.AfterExpr.Range().Ptr()})
		}
		var walk func(cty.Value) hcl.Diagnostics
		walk = func(v cty.Value) hcl.Diagnostics {
			v, marks := v.Unmark()
			switch ty := v.Type(); {
			case !v.IsWhollyKnown():
				return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value not known",
					Detail: "This runbook argument depends on values not known yet (an unapplied resource): apply first, then plan the runbook.", Subject: s.AfterExpr.Range().Ptr()})
			case v.IsNull():
				return invalid("null")
			case ty == cty.String:
				p, ok := d.insts.byID[v.AsString()]
				if _, marked := marks[stepIDMark{}]; !marked || !ok {
					return invalid(strconv.Quote(v.AsString()))
				}
				picks = append(picks, p)
			case ty.IsTupleType() || ty.IsListType() || ty.IsSetType() || ty.IsObjectType() || ty.IsMapType():
				for it := v.ElementIterator(); it.Next(); {
					_, e := it.Element()
					if d := walk(e); d.HasErrors() {
						return d
					}
				}
			default:
				return invalid("a " + ty.FriendlyName())
			}
			return nil
		}
		if d := walk(v); d.HasErrors() {
			return nil, d
		}
	}
	if len(picks) == 0 {
		return nil, nil
	}
	slices.Sort(picks)
	picks = slices.Compact(picks)
	out := make([]string, len(picks))
	for i, p := range picks {
		out[i] = d.insts.id(p)
	}
	if s.AfterExpr == nil {
		d.afters[s] = out
	}
	return out, nil
}

func (d runbookData) Step(name string) cty.Value {
	exp, ok := d.exps[name]
	if !ok || exp.kind == expandNone {
		return d.outcome(name)
	}
	vals := make([]cty.Value, len(exp.keys))
	for i, k := range exp.keys {
		vals[i] = d.outcome(lang.StepID(name, k))
	}
	if exp.kind == expandCount {
		return cty.TupleVal(vals)
	}
	m := make(map[string]cty.Value, len(vals))
	for i, k := range exp.keys {
		m[k.Str] = vals[i]
	}
	return cty.ObjectVal(m)
}

func (d runbookData) outcome(id string) cty.Value {
	if v, ok := d.steps[id]; ok {
		return v
	}
	return cty.UnknownVal(cty.Object(map[string]cty.Type{"status": cty.String}))
}

// instances lists the StepIDs ref names: every instance of the step, or
// the one its key names; false when the step has no instance of that key.
// A step whose expansion failed names none (its error is reported). The
// list is shared: callers only read it.
func (d runbookData) instances(ref lang.StepRef) ([]string, bool) {
	exp, ok := d.exps[ref.Name]
	if !ok {
		return nil, true
	}
	ids := d.insts.ids[d.insts.place[ref.Name]]
	if ref.Key != nil {
		i := exp.position(*ref.Key)
		if i < 0 {
			return nil, false
		}
		return ids[i : i+1], true
	}
	return ids, true
}

// position is where k is in the keys of e, -1 when e has no instance of
// that key: found, not searched for, as a step of a large runbook may
// name one instance of a step with thousands.
func (e expansion) position(k addrs.Key) int {
	switch {
	case e.kind == expandCount && k.Kind == addrs.IntKey && k.Int >= 0 && k.Int < len(e.keys):
		return k.Int
	case e.kind == expandForEach && k.Kind == addrs.StrKey:
		if i, ok := slices.BinarySearchFunc(e.keys, k.Str, func(a addrs.Key, s string) int { return strings.Compare(a.Str, s) }); ok {
			return i
		}
	}
	return -1
}

// describe says which instances exp has, for an error naming one it lacks.
func (e expansion) describe() string {
	switch {
	case e.kind == expandCount:
		return fmt.Sprintf("count = %d", len(e.keys))
	case len(e.keys) == 0:
		return "for_each has no keys"
	}
	keys := make([]string, len(e.keys))
	for i, k := range e.keys {
		keys[i] = strconv.Quote(k.Str)
	}
	return "for_each keys " + strings.Join(keys, ", ")
}

// unknownSteps lists, in order, the step instances s refers to whose
// outcome is not known yet.
func unknownSteps(scope *lang.Scope, s *lang.Step) []string {
	data := scope.Data.(runbookData)
	refs := data.stepRefs(s)
	if len(refs) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, ref := range refs {
		ids, _ := data.instances(ref)
		for _, id := range ids {
			if _, known := data.steps[id]; !known {
				seen[id] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// refersBefore refuses a step that refers to a step it does not run after
// (through after, directly or not): that step's outcome would not be
// known when it runs. After one instance of a step (step.x[2]), only that
// instance's outcome is known. refs are s's step references (stepRefs),
// after what instance id waits for; the instances an after expression
// picks (step.x[count.index - 1]) are known for it, not for the steps it
// runs after, which count as not waiting for them.
func refersBefore(rb *lang.Runbook, s *lang.Step, id string, after []string, refs []lang.StepRef) hcl.Diagnostics {
	var stepRefs []lang.StepRef
	for _, ref := range refs {
		if rb.Steps[ref.Name] != nil {
			stepRefs = append(stepRefs, ref)
		}
	}
	if len(stepRefs) == 0 {
		// Most steps refer to none, and walking every step's ancestors
		// costs the square of the runbook (1,000 steps in waves of 100:
		// 90 million visits).
		return nil
	}
	// whole holds the steps run after in all their instances; some, the
	// single instances run after of the others.
	whole := map[string]bool{}
	some := map[string]bool{}
	for _, a := range after {
		some[a] = true
	}
	walked := map[string]bool{}
	var walk func(*lang.Step)
	walk = func(st *lang.Step) {
		for _, ref := range st.After {
			if rb.Steps[ref.Name] == nil {
				continue
			}
			switch {
			case ref.Computed:
			case ref.Key != nil:
				some[lang.StepID(ref.Name, *ref.Key)] = true
			default:
				whole[ref.Name] = true
			}
			if !walked[ref.Name] {
				walked[ref.Name] = true
				walk(rb.Steps[ref.Name])
			}
		}
	}
	walk(s)
	var diags hcl.Diagnostics
	for _, ref := range stepRefs {
		named := "step." + ref.Name
		if ref.Key != nil {
			named = "step." + lang.StepID(ref.Name, *ref.Key)
		}
		if whole[ref.Name] || ref.Key != nil && some[lang.StepID(ref.Name, *ref.Key)] {
			continue
		}
		detail := fmt.Sprintf("Step %q of runbook %q refers to %s, whose outcome is known only once it has run. Add %s to its after list (directly or through the steps it runs after).",
			id, rb.Name, named, named)
		if ref.Name == s.Name {
			// Waiting for all of its own step would be a cycle; which
			// instance an index computed for each one picks is not known
			// here.
			detail = fmt.Sprintf("Step %q of runbook %q refers to %s, the instances of its own step, whose outcomes are known only once they have run; an instance can wait for others of its step, but not be checked against one picked by an index computed for each instance. Order them with after instead (after = count.index > 0 ? [step.%s[count.index - 1]] : []): an instance after one that failed does not run.",
				id, rb.Name, named, ref.Name)
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Step refers to a step it does not run after",
			Detail: detail, Subject: ref.Range.Ptr()})
	}
	return diags
}

// stepExprs lists the expressions of s's arguments, its checks' included,
// for finding the steps it refers to.
func stepExprs(s *lang.Step) []hcl.Expression {
	out := []hcl.Expression{s.Host, s.Run, s.Env, s.Dir, s.Timeout, s.Retries, s.RetryDelay, s.OnFailure,
		s.Prompt, s.Wait, s.Check, s.Reboot, s.RebootCommand, s.RebootProbe}
	for _, list := range [][]*lang.Assertion{s.Checks, s.Preconditions, s.Postconditions} {
		for _, a := range list {
			out = append(out, a.Target)
			for _, e := range a.Expect {
				out = append(out, e)
			}
		}
	}
	return out
}

// stepAction names the action s sets.
func stepAction(s *lang.Step) string {
	switch {
	case s.Run != nil:
		return plan.StepRun
	case s.Wait != nil:
		return plan.StepWait
	case s.Prompt != nil:
		return plan.StepPrompt
	case s.Import != nil:
		return plan.StepImport
	case s.SetDefault != nil:
		return plan.StepSetDefault
	case s.SetNext != nil:
		return plan.StepSetNext
	case s.Check != nil || len(s.Checks) > 0:
		return plan.StepCheck
	case s.Stop != nil:
		return plan.StepStop
	}
	return plan.StepResources
}
