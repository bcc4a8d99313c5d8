package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/planner/dag"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/record"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// RunbookOptions shapes one runbook run.
type RunbookOptions struct {
	Providers   *providers.Registry
	Journal     state.Journal
	Parallelism int
	Hooks       RunbookHooks
	// Record is the run's record (a new one, or the record of the run the
	// plan continues), saved in Records after every change of a step.
	Record  *record.Record
	Records *record.Store
	// Kill ends the steps running, their processes killed; the end of the
	// run's own context only stops new steps from starting.
	Kill context.Context
	// Prompter answers prompt steps and on_failure = "prompt".
	Prompter Prompter
	// Steps plans a step again when it runs (the planner's
	// NewStepPlanner): a check's condition, a step referring to others.
	// Without it the planned step stands.
	Steps StepPlanner
}

// StepPlanner plans a step of the run again over the state as the run
// has it.
type StepPlanner interface {
	PlanStep(ctx context.Context, runbook, kind, step string, current *state.State) (*plan.Step, hcl.Diagnostics)
}

// RunbookHooks hears about each step as it runs; the core never prints.
type RunbookHooks interface {
	StepStarted(s *plan.Step, attempt int)
	// StepProgress is a provider's progress message (not output).
	StepProgress(s *plan.Step, p providers.Progress)
	StepFinished(s *plan.Step, r *record.Step)
	Released(rel *plan.Release, diags hcl.Diagnostics)
	// RunFinished says the run's record is final: it is saved next, and
	// nothing changes it after, so a caller may read it from here on
	// (render its report while it is saved).
	RunFinished(rec *record.Record)
}

// Prompter asks a person a yes-or-no question for a step, and says who
// answered, when and how.
type Prompter interface {
	Ask(ctx context.Context, step, question string) (*record.Answer, error)
}

// errStepFailed stops the walk at a step whose on_failure is abort.
var errStepFailed = errors.New("step failed")

// runbookRun is one run of a runbook plan. The state and the record are
// changed only under mu. A step of the record, once listed, is never
// changed in place: a change puts a changed copy in its place (setStep),
// so that a snapshot of the record shares its steps and the record's
// encoder re-encodes only the steps that changed.
type runbookRun struct {
	rb    *plan.Runbook
	opts  RunbookOptions
	runID string

	mu    sync.Mutex
	state *state.State
	rec   *record.Record
	// stepAt is the index of each step in rec.Steps.
	stepAt map[string]int
	diags  hcl.Diagnostics
	// kick asks the saver for a write; saveMu serialises writes and
	// guards saveErr, the first write that failed, and enc.
	kick    chan struct{}
	saveMu  sync.Mutex
	saveErr error
	enc     record.Encoder
}

// RunRunbook runs the steps of a runbook plan in wave order, at most
// Parallelism at once, journalling each step durably before it acts and
// after, then gives back what the plan releases. It returns the state with
// the run recorded (also with errors: every step that finished is in it).
func RunRunbook(ctx context.Context, p *plan.Plan, prior *state.State, opts RunbookOptions) (*state.State, hcl.Diagnostics) {
	rb := p.Runbook
	if p.Errored || rb == nil {
		return prior, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Plan cannot be run",
			Detail: "This is not the plan of a runbook run, or it stopped at an error. Plan the runbook again."}}
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 10
	}
	if opts.Kill == nil {
		opts.Kill = context.WithoutCancel(ctx)
	}
	r := &runbookRun{rb: rb, opts: opts, runID: opts.Record.RunID, state: prior.DeepCopy(), rec: opts.Record, kick: make(chan struct{}, 1)}
	r.prepareRecord()
	if opts.Records != nil {
		if _, err := r.write(); err != nil {
			return r.state, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot write the run record", Detail: err.Error() + "; nothing was run."}}
		}
		done, finished := make(chan struct{}), make(chan struct{})
		go r.saver(done, finished)
		defer func() { close(done); <-finished }()
	}

	byName := map[string]*plan.Step{}
	for _, s := range rb.Steps {
		if s.Skip == "" {
			byName[s.Name] = s
		}
	}
	g := runbookGraph(rb.Steps)
	// The record tells when the run was asked to stop: the report shows
	// an interrupted run's steps against that moment.
	stopInterrupt := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.rec.Messages = append(r.rec.Messages, record.Message{Severity: "warning", Summary: "Interrupt received",
			Detail: fmt.Sprintf("At %s: running steps were let finish and no new step started.", time.Now().UTC().Format(time.RFC3339Nano))})
		r.mu.Unlock()
		r.save()
	})
	walkErr := g.WalkWith(ctx, opts.Parallelism, dag.WalkOptions{StopOnError: true}, func(ctx context.Context, n runNode) error {
		if n.join != 0 {
			return nil
		}
		return r.step(byName[n.step])
	})
	stopInterrupt()
	status := record.Succeeded
	switch {
	case walkErr != nil && ctx.Err() != nil:
		status = record.Interrupted
		r.addDiags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Runbook run interrupted",
			Detail: fmt.Sprintf("Steps already running were let finish and are recorded; nothing else was started. Run the runbook again to continue run %s.", r.runID)}})
	case walkErr != nil:
		status = record.Failed
	}
	if status == record.Succeeded {
		r.release()
		if r.hasErrors() {
			status = record.Failed
		}
	}
	r.mu.Lock()
	for i, s := range r.rec.Steps {
		if s.Status == record.Pending {
			r.setStep(i, func(s *record.Step) { s.Status = record.Cancelled })
		}
	}
	r.mu.Unlock()
	if status == record.Succeeded {
		// A failover stays in force (running it again does nothing) until
		// a failback; so does any run whose steps hold something. Nothing
		// stays in force after a failback, and a plain run that holds
		// nothing is simply over: the next runs it anew.
		e := state.RunbookEntry{Name: rb.Name, RunID: r.runID, Kind: rb.Kind, Done: true}
		if rb.Kind == string(record.Failback) || rb.Kind == string(record.Run) && !r.holds() {
			e = state.RunbookEntry{Name: rb.Name, Removed: true}
		}
		r.journal(e)
	}
	r.mu.Lock()
	r.rec.Finish(time.Now(), status)
	for _, d := range r.diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		r.rec.Messages = append(r.rec.Messages, record.Message{Severity: sev, Summary: d.Summary, Detail: d.Detail})
	}
	r.mu.Unlock()
	if r.opts.Hooks != nil {
		r.opts.Hooks.RunFinished(r.rec)
	}
	if r.opts.Records != nil {
		r.write()
		r.saveMu.Lock()
		err := r.saveErr
		r.saveMu.Unlock()
		if err != nil {
			r.addDiags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot write the run record", Detail: err.Error()}})
		}
	}
	return r.state, r.diags
}

// holds reports whether a step of this run holds something to give back.
func (r *runbookRun) holds() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rb := r.state.Runbooks[r.rb.Name]; rb != nil {
		for _, st := range rb.Steps {
			if st.Release != nil {
				return true
			}
		}
	}
	return false
}

// prepareRecord lists the plan's steps in the record: a continued record
// keeps what its steps did, a step skipped in a new record says why. It
// runs before the record is first written, so it changes steps in place.
func (r *runbookRun) prepareRecord() {
	r.stepAt = make(map[string]int, len(r.rec.Steps)+len(r.rb.Steps))
	for i, s := range slices.Backward(r.rec.Steps) {
		r.stepAt[s.Name] = i // the first of a name, as record.Step finds it
	}
	for _, s := range r.rb.Steps {
		i, ok := r.stepAt[s.Name]
		if !ok {
			i = len(r.rec.Steps)
			r.stepAt[s.Name] = i
			r.rec.Steps = append(r.rec.Steps, &record.Step{Name: s.Name})
		}
		rs := r.rec.Steps[i]
		rs.Action, rs.Summary, rs.Host, rs.Wave, rs.After = s.Action, s.Summary, s.Host, s.Wave, s.After
		switch {
		case s.Skip != "" && r.rb.Continues == r.runID:
			// It finished earlier in this very run, as the journal says,
			// even when the record was not saved since.
			rs.Status = record.Succeeded
		case s.Skip != "" && rs.Status != record.Succeeded:
			rs.Status, rs.SkipReason = record.Skipped, s.Skip
		case s.Skip == "":
			rs.Status, rs.Error = record.Pending, ""
		}
	}
}

func (r *runbookRun) addDiags(d hcl.Diagnostics) {
	r.mu.Lock()
	r.diags = append(r.diags, d...)
	r.mu.Unlock()
}

func (r *runbookRun) hasErrors() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.diags.HasErrors()
}

// saveEvery bounds how often the record is written while the run goes
// on: a record is a document of the whole run, and writing it after each
// of a thousand quick steps would cost more than the steps. As the record
// grows, each write costs more, so the interval widens with it: the saver
// writes at most saveRate bytes a second, and waits savePace times as
// long as its last write took where that is longer (a slow disk). So
// saving takes about a fixed share of the run however many steps it lists
// (a fixed interval made the cost grow with the steps squared), and a
// small run's record is still at most saveEvery behind; a large one's
// (1,000 steps after a hundred each: 1.9 MB) about a second.
const (
	saveEvery = 100 * time.Millisecond
	savePace  = 20
	saveRate  = 2_000_000 // bytes a second
)

// saveInterval is how long the saver waits after a write of size bytes
// that took took.
func saveInterval(took time.Duration, size int) time.Duration {
	return max(saveEvery, savePace*took, time.Duration(size)*time.Second/saveRate)
}

// save asks for the record to be written: the saver writes the record as
// it then stands within saveInterval. The journal, not the record, is what
// a resumed run trusts, so a crash loses at most the last moments of it.
func (r *runbookRun) save() {
	if r.opts.Records == nil {
		return
	}
	select {
	case r.kick <- struct{}{}:
	default: // a save is already due; it will see this change
	}
}

// saver writes the record when asked, paced by saveInterval, until done
// is closed; the run writes the final version itself.
func (r *runbookRun) saver(done <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	for {
		select {
		case <-done:
			return
		case <-r.kick:
		}
		start := time.Now()
		size, _ := r.write()
		t := time.NewTimer(saveInterval(time.Since(start), size))
		select {
		case <-done:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// write writes the record as it now stands, remembering the first error,
// and returns the size of the document written.
func (r *runbookRun) write() (int, error) {
	// Snapshots are taken in the order they are written, so a late
	// write never puts back an older version.
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	snap := r.snapshot()
	r.mu.Unlock()
	err := r.opts.Records.SaveWith(&r.enc, snap)
	if err != nil && r.saveErr == nil {
		r.saveErr = err
	}
	return r.enc.Len(), err
}

// snapshot copies the record for writing outside mu; it shares the
// steps, which are never changed in place. mu is held.
func (r *runbookRun) snapshot() *record.Record {
	c := *r.rec
	c.Steps = slices.Clone(r.rec.Steps)
	c.Messages = append([]record.Message(nil), r.rec.Messages...)
	c.Protected = append([]*record.Protected(nil), r.rec.Protected...)
	return &c
}

// journal records e in the state and in the journal. A step's start is
// synced before the step acts outside Drover, so that no crash hides that
// it may have acted; an outcome is written before the run goes on, which
// a killed process cannot undo, and synced with the next start (Append):
// after a power loss in between, the step counts as interrupted and runs
// again, as any step whose outcome is unknown.
func (r *runbookRun) journal(e state.RunbookEntry) {
	r.mu.Lock()
	r.state.RecordRunbook(e)
	r.mu.Unlock()
	if r.opts.Journal == nil {
		return
	}
	write := r.opts.Journal.Append
	if e.Status == state.StepStarted {
		write = r.opts.Journal.Record
	}
	if err := write(state.JournalEntry{Runbook: &e}); err != nil {
		r.addDiags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Failed to record the runbook step",
			Detail: fmt.Sprintf("Runbook %q, step %q: %s", e.Name, e.Step, err)}})
	}
}

// updateStep changes the step's record under mu and saves it.
func (r *runbookRun) updateStep(name string, f func(*record.Step)) {
	r.mu.Lock()
	r.setStep(r.stepAt[name], f)
	r.mu.Unlock()
	r.save()
}

// setStep puts a copy of step i changed by f in its place. mu is held.
func (r *runbookRun) setStep(i int, f func(*record.Step)) {
	cp := *r.rec.Steps[i]
	f(&cp)
	r.rec.Steps[i] = &cp
}

// step runs one step with its retries and decides, by its on_failure,
// whether the run goes on.
func (r *runbookRun) step(s *plan.Step) error {
	entry := state.RunbookEntry{Name: r.rb.Name, RunID: r.runID, Kind: r.rb.Kind, Step: s.Name, Status: state.StepStarted}
	r.journal(entry)
	var out stepOutcome
	for attempt := 1; ; attempt++ {
		if r.opts.Hooks != nil {
			r.opts.Hooks.StepStarted(s, attempt)
		}
		r.updateStep(s.Name, func(rs *record.Step) {
			if attempt == 1 {
				rs.Status, rs.StartedAt, rs.FinishedAt, rs.Error = record.Running, time.Now().UTC(), time.Time{}, ""
			}
			rs.Attempts++
		})
		out = r.attempt(s)
		if !out.diags.HasErrors() || attempt > s.Retries || r.opts.Kill.Err() != nil {
			break
		}
		if s.RetryDelay > 0 {
			t := time.NewTimer(s.RetryDelay)
			select {
			case <-t.C:
			case <-r.opts.Kill.Done():
			}
			t.Stop()
		}
	}
	failed := out.diags.HasErrors()
	entry.Status, entry.Release = state.StepSucceeded, out.release
	if failed {
		entry.Status, entry.Release = state.StepFailed, nil
	}
	r.journal(entry)
	var rs record.Step
	r.updateStep(s.Name, func(x *record.Step) {
		x.FinishedAt = time.Now().UTC()
		x.ExitCode = out.exitCode
		if out.output != "" {
			x.Output = out.output
		}
		if out.answer != nil {
			x.Answer = out.answer
		}
		x.Checks = append(x.Checks, out.checks...)
		x.Status = record.Succeeded
		if failed {
			x.Status, x.Error = record.Failed, diagText(out.diags)
		}
		rs = *x
	})
	if r.opts.Hooks != nil {
		r.opts.Hooks.StepFinished(s, &rs)
	}
	if !failed {
		r.addDiags(out.diags) // its warnings
		return nil
	}
	goOn := func(why string) error {
		r.addDiags(hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Step failed, the run went on",
			Detail: fmt.Sprintf("Step %q failed (%s), and the run went on: %s.", s.Name, diagText(out.diags), why)}})
		return nil
	}
	switch s.OnFailure {
	case "continue":
		return goOn(`its on_failure is "continue"`)
	case "prompt":
		if r.opts.Prompter != nil {
			a, err := r.opts.Prompter.Ask(r.opts.Kill, s.Name, fmt.Sprintf("Step %q failed: %s. Go on with the run?", s.Name, diagText(out.diags)))
			if err == nil {
				r.updateStep(s.Name, func(x *record.Step) { x.Answer = a })
				if a.Answer == "yes" {
					return goOn(fmt.Sprintf("%s answered yes (%s)", a.By, a.Via))
				}
			}
		}
	}
	r.addDiags(out.diags)
	return errStepFailed
}

// stepOutcome is what one attempt of a step did.
type stepOutcome struct {
	diags    hcl.Diagnostics
	exitCode *int
	output   string
	answer   *record.Answer
	checks   []*record.Check
	release  *state.Release
}

func diagText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			parts = append(parts, strings.TrimSpace(d.Summary+": "+d.Detail))
		}
	}
	return strings.Join(parts, "; ")
}

func stepError(s *plan.Step, summary, format string, args ...any) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf("Step %q: ", s.Name) + fmt.Sprintf(format, args...)}}
}

// attempt runs a step once, bounded by its timeout and by Kill.
func (r *runbookRun) attempt(s *plan.Step) stepOutcome {
	ctx, cancel := r.opts.Kill, context.CancelFunc(func() {})
	if s.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
	}
	defer cancel()
	timedOut := func(o stepOutcome) stepOutcome {
		if ctx.Err() == context.DeadlineExceeded && r.opts.Kill.Err() == nil {
			o.diags = stepError(s, "Step timed out", "it ran longer than its timeout of %s and was stopped (a command's whole process group is killed). Raise timeout if it needs longer.", s.Timeout)
		}
		return o
	}
	if s.Deferred || s.Action == plan.StepCheck || fromState(s.Preconditions) || fromState(s.Postconditions) {
		fresh, diags := r.replan(ctx, s)
		if diags.HasErrors() {
			return timedOut(stepOutcome{diags: diags})
		}
		if s.Deferred && r.opts.Hooks != nil {
			r.opts.Hooks.StepProgress(s, providers.Progress{Message: "planned as it runs: " + fresh.Summary})
		}
		s = fresh
		r.updateStep(s.Name, func(rs *record.Step) { rs.Action, rs.Summary, rs.Host = s.Action, s.Summary, s.Host })
	}
	pre, diags := r.assert(ctx, s, "precondition", s.Preconditions)
	if diags.HasErrors() {
		return timedOut(stepOutcome{checks: pre, diags: diags})
	}
	o := r.act(ctx, s)
	o.checks = append(pre, o.checks...)
	if o.diags.HasErrors() || len(s.Postconditions) == 0 {
		return timedOut(o)
	}
	post := s.Postconditions
	if fromState(post) {
		// A lag or an age is answered from the state: refreshed now,
		// after the step acted.
		fresh, d := r.replan(ctx, s)
		if d.HasErrors() {
			o.diags = append(o.diags, d...)
			return timedOut(o)
		}
		post = fresh.Postconditions
	}
	checks, d := r.assert(ctx, s, "postcondition", post)
	o.checks = append(o.checks, checks...)
	o.diags = append(o.diags, d...)
	return timedOut(o)
}

// act does the work of s, once its preconditions passed.
func (r *runbookRun) act(ctx context.Context, s *plan.Step) stepOutcome {
	switch s.Action {
	case plan.StepCheck:
		return r.check(ctx, s)
	case plan.StepResources:
		return r.resources(ctx, s)
	case plan.StepPrompt:
		return r.prompt(ctx, s)
	}
	var o stepOutcome
	out := r.output(s)
	res, diags := r.invoke(ctx, s, s.Invoke, out)
	if name, err := out.close(); err != nil {
		diags = append(diags, stepError(s, "Cannot keep the step's output", "%s", err)...)
	} else {
		o.output = name
	}
	o.diags = diags
	if diags.HasErrors() {
		return o
	}
	switch s.Action {
	case plan.StepRun:
		n, _ := res.GetAttr("exit_code").AsBigFloat().Int64()
		code := int(n)
		o.exitCode = &code
		if code != 0 {
			o.diags = stepError(s, "Command failed", "%s exited with status %d; its output is in the run's record.", strings.TrimPrefix(s.Summary, "run "), code)
		}
	case plan.StepImport, plan.StepStop:
		if s.Release != nil {
			o.release = &state.Release{Summary: s.ReleaseSummary, Provider: s.Release.Provider, Action: s.Release.Action, Args: s.Release.Args}
		}
	case plan.StepSetDefault:
		// The default it replaced is known only now. When the entry was
		// the default already (a run interrupted after the switch, or a
		// menu switched by hand), there is nothing to give back: say so.
		prev, entry := res.GetAttr("previous"), res.GetAttr("entry")
		if !prev.IsNull() && !entry.IsNull() && prev.AsString() == entry.AsString() {
			o.diags = append(o.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Replaced boot default not known",
				Detail: fmt.Sprintf("Step %q: %s was the default boot entry of %s already, so this run cannot tell which entry it replaced, and failback will not switch back. After failback, set the default by hand (drover boot set-default).",
					s.Name, entry.AsString(), s.Host)})
			break
		}
		if !prev.IsNull() && prev.AsString() != "" {
			args := s.Invoke.Args.AsValueMap()
			args["path"], args["label"] = prev, prev
			o.release = &state.Release{Summary: fmt.Sprintf("make %s the default boot entry of %s again", prev.AsString(), s.Host),
				Provider: s.Invoke.Provider, Action: "boot_set_default", Args: cty.ObjectVal(args)}
		}
	}
	if s.Reboot != nil && !o.diags.HasErrors() {
		if _, d := r.invoke(ctx, s, *s.Reboot, nil); d.HasErrors() {
			o.diags = d
		}
	}
	return o
}

// prompt asks a prompt step's question.
func (r *runbookRun) prompt(ctx context.Context, s *plan.Step) stepOutcome {
	if r.opts.Prompter == nil {
		return stepOutcome{diags: stepError(s, "No one to ask", "a prompt step needs a terminal, `drover runbook answer`, or --approve %s.", s.Name)}
	}
	a, err := r.opts.Prompter.Ask(ctx, s.Name, s.Prompt)
	if err != nil {
		return stepOutcome{diags: stepError(s, "Prompt not answered", "%s", err)}
	}
	o := stepOutcome{answer: a}
	if a.Answer != "yes" {
		o.diags = stepError(s, "Prompt declined", "%s answered %q to %q.", a.By, a.Answer, s.Prompt)
	}
	return o
}

// resources applies a step's resource changes through Apply, with the
// run's journal, and holds the resources until a failback.
func (r *runbookRun) resources(ctx context.Context, s *plan.Step) stepOutcome {
	diags := r.applyChanges(ctx, s.Changes)
	if diags.HasErrors() {
		return stepOutcome{diags: diags}
	}
	rel := &state.Release{}
	for _, c := range s.Changes {
		rel.Resources = append(rel.Resources, c.Addr.String())
	}
	rel.Summary = "destroy " + strings.Join(rel.Resources, ", ")
	return stepOutcome{diags: diags, release: rel}
}

// applyChanges applies changes with Apply on the run's state, journalled
// as any apply, and takes the outcome into the run's state.
func (r *runbookRun) applyChanges(ctx context.Context, changes []*plan.Change) hcl.Diagnostics {
	r.mu.Lock()
	base := r.state.DeepCopy()
	r.mu.Unlock()
	final, diags := Apply(ctx, &plan.Plan{Mode: plan.Normal, Lineage: base.Lineage, Serial: base.Serial, Changes: changes}, base,
		Options{Providers: r.opts.Providers, Journal: r.opts.Journal, Parallelism: r.opts.Parallelism})
	r.mu.Lock()
	for _, c := range changes {
		if inst := final.Instance(c.Addr); inst != nil {
			r.state.Set(inst)
		} else {
			r.state.Remove(c.Addr)
		}
	}
	r.mu.Unlock()
	return diags
}

// replan plans s again as things stand now, keeping its place in the run.
func (r *runbookRun) replan(ctx context.Context, s *plan.Step) (*plan.Step, hcl.Diagnostics) {
	if r.opts.Steps == nil {
		if s.Deferred {
			return nil, stepError(s, "Step cannot be planned", "it refers to other steps, and this run has no planner to plan it as it runs.")
		}
		return s, nil
	}
	r.mu.Lock()
	current := r.state.DeepCopy()
	r.mu.Unlock()
	fresh, diags := r.opts.Steps.PlanStep(ctx, r.rb.Name, r.rb.Kind, s.Name, current)
	if diags.HasErrors() {
		return nil, diags
	}
	if fresh.Deferred {
		return nil, append(diags, stepError(s, "Step refers to a step that has not run",
			"%s. Name the steps it refers to in its after list, so that they run first.", fresh.Summary)...)
	}
	fresh.Wave, fresh.After, fresh.Skip = s.Wave, s.After, ""
	return fresh, diags
}

// check answers a check step: its condition, as planned when it runs, or
// its check blocks.
func (r *runbookRun) check(ctx context.Context, s *plan.Step) stepOutcome {
	if len(s.Checks) > 0 {
		checks, diags := r.assert(ctx, s, "check", s.Checks)
		return stepOutcome{checks: checks, diags: diags}
	}
	holds := s.Check != nil && *s.Check
	target := strings.TrimPrefix(s.Summary, "check ")
	if i := strings.LastIndex(target, " ("); i > 0 {
		target = target[:i]
	}
	c := &record.Check{Kind: "condition", Target: target, Passed: holds, At: time.Now().UTC()}
	o := stepOutcome{checks: []*record.Check{c}}
	if !holds {
		c.Detail = "the condition is false"
		o.diags = stepError(s, "Check failed", "%s does not hold.", target)
	}
	return o
}

// invoke runs a provider action for s, streaming what a command writes
// into out.
func (r *runbookRun) invoke(ctx context.Context, s *plan.Step, inv plan.Invoke, out *stepOutput) (cty.Value, hcl.Diagnostics) {
	prov, _, err := r.opts.Providers.Get(ctx, inv.Provider)
	if err != nil {
		return cty.NilVal, stepError(s, "Provider failed to start", "%s", err)
	}
	resp := prov.Invoke(ctx, providers.InvokeRequest{Action: inv.Action, Args: inv.Args, Progress: func(p providers.Progress) {
		if (p.Unit == providers.StdoutUnit || p.Unit == providers.StderrUnit) && out != nil {
			out.write(p.Unit, p.Message)
			return
		}
		if r.opts.Hooks != nil {
			r.opts.Hooks.StepProgress(s, p)
		}
	}})
	var diags hcl.Diagnostics
	for _, d := range resp.Diagnostics {
		sev := hcl.DiagError
		if d.Severity == providers.Warning {
			sev = hcl.DiagWarning
		}
		detail := d.Detail
		if detail != "" {
			detail += "\n\n"
		}
		detail += fmt.Sprintf("(from provider %q, action %s, step %q)", inv.Provider, inv.Action, s.Name)
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Summary: d.Summary, Detail: detail})
	}
	return resp.Result, diags
}

// stepOutput is a step's output log, opened at the first output.
type stepOutput struct {
	r    *runbookRun
	step string

	mu      sync.Mutex
	log     *record.Output
	streams map[string]io.Writer
	err     error
}

func (r *runbookRun) output(s *plan.Step) *stepOutput {
	return &stepOutput{r: r, step: s.Name, streams: map[string]io.Writer{}}
}

func (o *stepOutput) write(stream, text string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil || o.r.opts.Records == nil {
		return
	}
	if o.log == nil {
		if o.log, o.err = o.r.opts.Records.CreateOutput(o.r.runID, o.step); o.err != nil {
			return
		}
	}
	w := o.streams[stream]
	if w == nil {
		w = o.log.Stream(stream)
		o.streams[stream] = w
	}
	w.Write([]byte(text))
}

// close ends the log and returns its name, empty when nothing was written.
func (o *stepOutput) close() (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.log == nil {
		return "", o.err
	}
	err := o.log.Close()
	if o.err != nil {
		err = o.err
	}
	return o.log.Name(), err
}

// release gives back what the plan releases, runbook by runbook; a
// runbook all of whose holdings were given back leaves the state.
func (r *runbookRun) release() {
	failed := map[string]bool{}
	var order []string
	for _, rel := range r.rb.Release {
		if !slices.Contains(order, rel.Runbook) {
			order = append(order, rel.Runbook)
		}
		s := &plan.Step{Name: rel.Runbook + "." + rel.Step, Summary: rel.Summary}
		var diags hcl.Diagnostics
		if len(rel.Destroy) > 0 {
			diags = r.applyChanges(r.opts.Kill, rel.Destroy)
		} else {
			_, diags = r.invoke(r.opts.Kill, s, rel.Invoke, nil)
		}
		if r.opts.Hooks != nil {
			r.opts.Hooks.Released(rel, diags)
		}
		if diags.HasErrors() {
			failed[rel.Runbook] = true
			r.addDiags(diags)
			continue
		}
		r.mu.Lock()
		r.rec.Messages = append(r.rec.Messages, record.Message{Severity: "info", Summary: "Gave back " + rel.Runbook + "." + rel.Step, Detail: rel.Summary})
		r.mu.Unlock()
	}
	for _, name := range order {
		if !failed[name] {
			r.journal(state.RunbookEntry{Name: name, Removed: true})
		}
	}
	// Runbooks in force without anything to give back leave too.
	for _, rb := range r.state.SortedRunbooks() {
		if r.rb.Kind == string(record.Failback) && rb.Name != r.rb.Name && rb.Kind != string(record.Failback) && !failed[rb.Name] && !slices.Contains(order, rb.Name) {
			r.journal(state.RunbookEntry{Name: rb.Name, Removed: true})
		}
	}
}
