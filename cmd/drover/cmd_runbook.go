package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/cmd/drover/internal/render"
	"github.com/drover-dr/drover/executor"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/record"
	"github.com/drover-dr/drover/report"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

// runbookOptions are the flags of the commands that run a runbook.
type runbookOptions struct {
	planOptions
	autoApprove     bool
	approve         []string
	allowOverBudget bool
	// cause says what started the run when no one typed the command: it
	// goes into the run's record.
	cause *record.Message
}

// runbookInterrupts are what the first and the second signal do to a
// runbook run, in the words of its commands.
var runbookInterrupts = map[string]string{
	annotationInterrupted: "Interrupt received: letting running steps finish. Press Ctrl-C again to stop at once.",
	annotationStopped:     "Stopping at once: the running steps are killed. Finished steps are in the state journal; run the runbook again to continue.",
}

// walkGCPercent is Drover's GOGC from when a runbook's steps start: its
// heap may grow to five times what it keeps before it is collected.
const walkGCPercent = 400

func (o *runbookOptions) addFlags(cmd *cobra.Command) {
	cmd.Annotations = runbookInterrupts
	o.varOptions.addFlags(cmd)
	o.lockOptions.addFlags(cmd)
	f := cmd.Flags()
	f.IntVar(&o.parallelism, "parallelism", 10, "run at most `N` steps at once")
	f.BoolVar(&o.autoApprove, "auto-approve", false, "run without asking")
	f.StringArrayVar(&o.approve, "approve", nil, "answer yes to the prompt of step `STEP` up front (repeatable; x[3] or x[\"a\"] for one instance of a repeated step, x for all of them)")
	f.BoolVar(&o.allowOverBudget, "allow-over-budget", false, "run a runbook over its rpo or rto budget, with a warning")
	o.refresh = true
}

func newRunbookCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runbook",
		Short: "Run a runbook by name, answer its prompts, show what is in force",
	}
	o := &runbookOptions{}
	run := &cobra.Command{
		Use:   "run NAME|PLANFILE",
		Short: "Plan and run the runbook NAME",
		Long: `Plans the runbook (as plan --runbook NAME shows it), asks for "yes" unless
--auto-approve, and runs its steps in wave order. Every step is recorded in the state
before and after it acts: a run that stops is continued by the next. With PLANFILE
(plan --runbook NAME --out FILE) runs exactly that plan.

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if looksLikeFile(args[0]) {
				return runRunbook(cmd.Context(), g, o, string(record.Run), "", args[0])
			}
			return runRunbook(cmd.Context(), g, o, string(record.Run), args[0], "")
		},
	}
	o.addFlags(run)
	answer := &cobra.Command{
		Use:   "answer RUN STEP yes|no",
		Short: "Answer the prompt of a step of a run waiting in another process",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunbookAnswer(g, args[0], args[1], args[2])
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the runbook runs in progress and what the runbooks in force hold",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRunbookStatus(cmd.Context(), g)
		},
	}
	cmd.AddCommand(run, answer, status)
	return cmd
}

var errRunDeclined = errors.New("runbook run cancelled: the answer was not \"yes\"")

// runbookRequest asks the planner for the plan of runbook name, with the
// longest time each of its steps took in the runs recorded (what the rto
// budget counts for a step without a timeout).
func runbookRequest(name, kind string, allowOverBudget bool) *planner.RunbookRequest {
	req := &planner.RunbookRequest{Name: name, Kind: kind, AllowOverBudget: allowOverBudget, Measured: map[string]time.Duration{}}
	// Every plan of a runbook reads every run recorded: in outline, which
	// skips what the steps printed and their after lists.
	recs, _ := record.NewStore(record.DefaultDir).ListOutlines()
	req.LastDrill, _ = lastDrill(recs, name)
	for _, rec := range recs {
		if rec.Runbook != name || rec.Kind == record.Drill {
			continue
		}
		for _, s := range rec.Steps {
			if s.Status == record.Succeeded && !s.StartedAt.IsZero() {
				req.Measured[s.Name] = max(req.Measured[s.Name], s.FinishedAt.Sub(s.StartedAt))
			}
		}
	}
	return req
}

// runbookCommand is the command that runs a runbook plan of kind.
func runbookCommand(kind string) string {
	if kind == string(record.Run) {
		return "runbook run"
	}
	return kind
}

// runbookKind is what a run of the runbook called name is for.
func runbookKind(name string) string {
	switch name {
	case string(record.Failover), string(record.Failback):
		return name
	}
	return string(record.Run)
}

// runRunbook plans (or reads the saved plan planFile), shows, asks and
// runs a runbook, writing its record and journalling every step.
func runRunbook(ctx context.Context, g *globalOptions, o *runbookOptions, kind, name, planFile string) error {
	// git tells the record which commit runs while the configuration
	// loads and plans, rather than after.
	identity := sync.OnceValue(configIdentity)
	go identity()
	s, err := o.open(ctx, g, kind)
	if err != nil {
		return err
	}
	defer s.close()
	v := s.v
	var p *plan.Plan
	if planFile != "" {
		if p, err = loadSavedPlan(v, s.backend, planFile, s.cfg, s.prior, &s.popts); err != nil {
			return err
		}
		if p.Runbook == nil {
			return v.errorf("Not a runbook plan", "%s is the plan of an apply: run it with `drover apply %s`.", planFile, planFile)
		}
		if p.Runbook.Kind != kind {
			return v.errorf("Plan of another kind of run", "%s is the plan of a %s of runbook %q: run it with `drover %s %s`.",
				planFile, p.Runbook.Kind, p.Runbook.Name, runbookCommand(p.Runbook.Kind), planFile)
		}
		if err := configureProviders(ctx, v, s.cfg, s.popts); err != nil {
			return err
		}
		if diags := planner.CheckSaved(ctx, s.cfg, s.popts, p); diags.HasErrors() {
			return v.fail(diags)
		}
		showPlan(v, p)
	} else {
		if err := configureProviders(ctx, v, s.cfg, s.popts); err != nil {
			return err
		}
		s.popts.Runbook = runbookRequest(name, kind, o.allowOverBudget)
		if p, err = makePlan(ctx, v, s.cfg, s.prior, s.popts); err != nil {
			return err
		}
	}
	if !p.HasChanges() {
		return nil
	}
	// The providers of the steps start while the run is being set up,
	// not as its first steps wait.
	s.popts.Providers.Prestart(ctx, stepProviders(p.Runbook)...)
	for i, a := range o.approve {
		id, err := canonicalStep(a)
		if err != nil {
			return v.errorf("Invalid step", "--approve %s: %s.", a, err)
		}
		o.approve[i] = id
		if !slices.ContainsFunc(p.Runbook.Steps, func(st *plan.Step) bool {
			return approves(id, st.Name) && (st.Action == plan.StepPrompt || st.OnFailure == "prompt")
		}) {
			return v.errorf("Unknown prompt step", "--approve %s names no step of runbook %q that asks (a prompt step, or one with on_failure = \"prompt\").", a, p.Runbook.Name)
		}
	}
	if !o.autoApprove {
		if v.json {
			return fmt.Errorf("--json needs --auto-approve: there is no one to ask")
		}
		if err := ask(v, fmt.Sprintf("Do you want to run runbook %q?", p.Runbook.Name)); err != nil {
			return errRunDeclined
		}
	}

	store := record.NewStore(record.DefaultDir)
	rec, err := runRecord(store, p.Runbook, identity)
	if err != nil {
		return err
	}
	if o.cause != nil {
		rec.Messages = append(rec.Messages, *o.cause)
	}
	journal, err := s.backend.Journal(ctx, s.prior)
	if err != nil {
		return fmt.Errorf("opening the state journal: %w", err)
	}
	kill, stopSteps := context.WithCancel(context.Background())
	defer stopSteps()
	var running sync.WaitGroup
	running.Add(1)
	g.interrupts.onStop(func() {
		stopSteps()
		waitWithin(&running, 5*time.Second)
	})
	if v.json {
		v.event("runbook_run_started", map[string]any{"runbook": p.Runbook.Name, "run_id": rec.RunID, "record": store.RunDir(rec.RunID)})
	} else {
		v.printf("\nRun %s of runbook %q; its record is in %s.\n\n", rec.RunID, p.Runbook.Name, store.RunDir(rec.RunID))
	}
	// Once the record is final, no step acts any more: the providers end
	// while the record, the state and the report are written, not after
	// them. A plugin's exit takes 15-25 ms past its last instruction (the
	// kernel releasing the inotify watches of its PATH cache waits out a
	// grace period), as long as that writing takes for a run of 1,000
	// steps. The state lock is released after.
	closed := make(chan struct{})
	closeProviders := sync.OnceFunc(func() {
		go func() {
			s.popts.Providers.Close()
			close(closed)
		}()
	})
	defer func() {
		closeProviders()
		<-closed
	}()
	// The report is rendered once the record is final, while the record
	// is saved and then the state written: all three read what the run
	// finished with, and none waits for another.
	type saved struct {
		path  string
		diags hcl.Diagnostics
	}
	report := make(chan saved, 1)
	renderReport := sync.OnceFunc(func() {
		go func() {
			path, d := saveRunReport(store, rec)
			report <- saved{path, d}
		}()
	})
	// While the steps run, Drover's part is to pass each step on and
	// journal it, a little work at a time between waits: on one processor
	// a goroutine woken (an answer come, a sync done) runs when the one
	// before waits, where on more Go wakes another thread to run it and
	// keeps threads spinning for more, CPU taken from the steps' programs
	// and the providers (bench/runbook.sh, two cores: 3-5% of the wall
	// clock, 2% of the CPU). The record, state and report are written
	// with every processor again. GOMAXPROCS set by the user stands.
	walkProcs := sync.OnceFunc(func() {})
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
		// Back to the default, which follows the CPUs and quota the
		// process is given, as a fixed number would not.
		walkProcs = sync.OnceFunc(runtime.SetDefaultGOMAXPROCS)
	}
	defer walkProcs()
	// Nor does it keep much (the plan, the record, the state: 5 MB at
	// most for 1,000 steps), and at Go's default it was collected every
	// 2-3 MB allocated passing steps on: twice while bench/runbook.sh's
	// steps ran, then again at the end. Collected at five times what it
	// keeps until the command ends, it was collected once, at the end
	// (two sets of 14 paired runs, medians: Drover's own CPU 180 to 165
	// and 194 to 186 ms). GOGC set by the user stands.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(walkGCPercent))
	}
	hooks := &runbookHooks{v: v, finished: func() {
		walkProcs()
		closeProviders()
		renderReport()
	}}
	final, diags := executor.RunRunbook(ctx, p, s.prior, executor.RunbookOptions{
		Providers:   s.popts.Providers,
		Journal:     journal,
		Parallelism: s.popts.Parallelism,
		Hooks:       hooks,
		Record:      rec,
		Records:     store,
		Kill:        kill,
		Prompter:    newPrompter(v, store, rec.RunID, o.approve),
		Steps:       planner.NewStepPlanner(s.cfg, s.popts),
	})
	running.Done()
	// A run that stopped before its end has a report too.
	closeProviders()
	renderReport()
	commitErr := journal.Commit(context.WithoutCancel(ctx), final)
	rep := <-report
	reportPath := rep.path
	diags = append(diags, rep.diags...)
	reported := v.diagnostics(diags)
	if commitErr != nil {
		return fmt.Errorf("saving the state: %w (the journal beside the state keeps every finished step; the next run replays it)", commitErr)
	}
	tally := runTally(rec)
	if v.json {
		v.event("runbook_summary", map[string]any{"runbook": p.Runbook.Name, "run_id": rec.RunID, "status": rec.Status,
			"rto": time.Duration(rec.RTO).String(), "steps": tally, "report": reportPath})
	} else {
		v.printf("\n%s\n", v.bold(fmt.Sprintf("Runbook %q %s: %s. Run %s, RTO %s.", p.Runbook.Name, rec.Status, tally,
			rec.RunID, time.Duration(rec.RTO).Round(time.Millisecond))))
		if reportPath != "" {
			v.printf("Its report: %s\n", reportPath)
		}
	}
	if reported {
		return errReported
	}
	return nil
}

// saveRunReport leaves the run's HTML report beside its record, whatever
// the run's outcome, and returns its path. The page is replaced whole: a
// continued run's report is the old one or the new one, never a mix. A
// report that cannot be written, or lacks a step's output, is a warning:
// the run itself is over and recorded either way.
func saveRunReport(store *record.Store, rec *record.Record) (string, hcl.Diagnostics) {
	var page bytes.Buffer
	logErr := report.HTML(&page, store, rec)
	var diags hcl.Diagnostics
	warn := func(err error) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Report incomplete",
			Detail: fmt.Sprintf("%s. The record is whole; `drover report show %s --html FILE` renders the report again.", err, rec.RunID)})
	}
	if page.Len() == 0 {
		warn(logErr)
		return "", diags
	}
	path, err := store.SaveReport(rec.RunID, page.Bytes())
	if err != nil {
		warn(err)
		return "", diags
	}
	if logErr != nil {
		warn(logErr)
	}
	return path, diags
}

// waitWithin waits for wg, at most d.
func waitWithin(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// stepProviders are the providers the steps of rb that run act through.
func stepProviders(rb *plan.Runbook) []string {
	var names []string
	for _, s := range rb.Steps {
		if s.Skip == "" && s.Invoke.Provider != "" && !slices.Contains(names, s.Invoke.Provider) {
			names = append(names, s.Invoke.Provider)
		}
	}
	return names
}

// runRecord is the record a run of rb writes: the record of the run it
// continues, or a new one naming the configuration by identity.
func runRecord(store *record.Store, rb *plan.Runbook, identity func() record.Config) (*record.Record, error) {
	rec, err := continuedRecord(store, rb, identity)
	if err != nil {
		return nil, err
	}
	// The data-loss window of each protected resource as the plan found
	// it: what failing over now loses.
	rec.Protected = nil
	now := time.Now().UTC()
	for _, c := range rb.Budget {
		if c.Budget == "rpo" {
			rec.Protected = append(rec.Protected, &record.Protected{Addr: c.Subject, LastChange: now.Add(-c.Value),
				RPO: record.Duration(c.Value), OverBudget: c.Over})
		}
	}
	return rec, nil
}

func continuedRecord(store *record.Store, rb *plan.Runbook, identity func() record.Config) (*record.Record, error) {
	if rb.Continues != "" {
		rec, err := store.Load(rb.Continues)
		if err == nil {
			rec.Status, rec.FinishedAt, rec.RTO = record.Running, time.Time{}, 0
			return rec, nil
		}
		// The record is gone (removed by hand): the run goes on under its
		// ID, in a new record.
		rec = record.New(rb.Name, record.Kind(rb.Kind), identity(), record.Budget{RPO: record.Duration(rb.RPO), RTO: record.Duration(rb.RTO)})
		rec.RunID = rb.Continues
		return rec, nil
	}
	return record.New(rb.Name, record.Kind(rb.Kind), identity(), record.Budget{RPO: record.Duration(rb.RPO), RTO: record.Duration(rb.RTO)}), nil
}

// configIdentity names the configuration a run is made from: its folder
// and, when git knows the folder, the commit checked out and whether
// files differ from it.
func configIdentity() record.Config {
	dir, _ := os.Getwd()
	c := record.Config{Dir: dir}
	if _, err := exec.LookPath("git"); err != nil {
		return c
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return c // not a repository, or one without commits
	}
	c.Commit = strings.TrimSpace(string(head))
	if st, err := exec.Command("git", "status", "--porcelain", "--", ".").Output(); err == nil {
		c.Dirty = len(strings.TrimSpace(string(st))) > 0
	}
	return c
}

// runTally counts the record's steps by status, in a fixed order.
func runTally(rec *record.Record) string {
	n := map[record.Status]int{}
	for _, s := range rec.Steps {
		n[s.Status]++
	}
	var parts []string
	for _, st := range []record.Status{record.Succeeded, record.Failed, record.Skipped, record.Cancelled, record.Interrupted, record.Running, record.Pending} {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	if len(parts) == 0 {
		return "no steps"
	}
	return strings.Join(parts, ", ")
}

// showRunbookPlan renders a runbook plan, or its steps as JSON events.
func showRunbookPlan(v *view, rb *plan.Runbook) {
	if v.json {
		for _, s := range rb.Steps {
			v.event("runbook_step_planned", map[string]any{"runbook": rb.Name, "step": s.Name, "wave": s.Wave + 1, "action": s.Action,
				"host": s.Host, "summary": s.Summary, "skip": s.Skip})
		}
		if rb.Drill != nil {
			showDrillPlanEvents(v, rb.Drill)
		}
		v.event("runbook_plan_summary", map[string]any{"runbook": rb.Name, "run": rb.Runs(), "skipped": len(rb.Steps) - rb.Runs(),
			"release": len(rb.Release), "continues": rb.Continues})
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	render.Runbook(v.out, rb, render.Options{Color: v.color})
}

// runbookHooks renders a run's steps as they start and finish; finished,
// when set, is called once the run's record is final.
type runbookHooks struct {
	v        *view
	finished func()
}

func (h *runbookHooks) RunFinished(*record.Record) {
	if h.finished != nil {
		h.finished()
	}
}

func (h *runbookHooks) StepStarted(s *plan.Step, attempt int) {
	if h.v.json {
		h.v.event("runbook_step_started", map[string]any{"step": s.Name, "attempt": attempt})
		return
	}
	again := ""
	if attempt > 1 {
		again = fmt.Sprintf(" (attempt %d)", attempt)
	}
	h.v.printf("%s: %s%s...\n", s.Name, s.Summary, again)
}

func (h *runbookHooks) StepProgress(s *plan.Step, p providers.Progress) {
	if p.Message == "" {
		return
	}
	if h.v.json {
		h.v.event("runbook_step_progress", map[string]any{"step": s.Name, "message": p.Message})
		return
	}
	h.v.printf("%s: %s\n", s.Name, p.Message)
}

func (h *runbookHooks) StepFinished(s *plan.Step, r *record.Step) {
	took := r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond)
	if h.v.json {
		h.v.event("runbook_step_finished", map[string]any{"step": s.Name, "status": r.Status, "seconds": took.Seconds(), "error": r.Error,
			"exit_code": r.ExitCode, "output": r.Output})
		return
	}
	switch r.Status {
	case record.Succeeded:
		h.v.printf("%s: %s after %s\n", s.Name, h.v.green("done"), took)
	default:
		h.v.printf("%s: %s after %s\n", s.Name, r.Status, took)
	}
}

func (h *runbookHooks) Released(rel *plan.Release, diags hcl.Diagnostics) {
	if h.v.json {
		h.v.event("runbook_released", map[string]any{"runbook": rel.Runbook, "step": rel.Step, "failed": diags.HasErrors()})
		return
	}
	if !diags.HasErrors() {
		h.v.printf("%s.%s: gave back: %s\n", rel.Runbook, rel.Step, rel.Summary)
	}
}

// prompter answers prompt steps: --approve up front, the terminal when
// there is one, else an answer file that `drover runbook answer` writes in
// the run's folder, polled until the step's context ends.
type prompter struct {
	v       *view
	store   *record.Store
	runID   string
	approve []string
	mu      sync.Mutex // one question on the terminal at a time
}

func newPrompter(v *view, store *record.Store, runID string, approve []string) *prompter {
	return &prompter{v: v, store: store, runID: runID, approve: approve}
}

// pollAnswer is how often a waiting prompt looks for an answer file.
const pollAnswer = 100 * time.Millisecond

func (p *prompter) Ask(ctx context.Context, step, question string) (*record.Answer, error) {
	a := &record.Answer{Question: question}
	if slices.ContainsFunc(p.approve, func(a string) bool { return approves(a, step) }) {
		a.Answer, a.By, a.At, a.Via = "yes", whoAmI(), time.Now().UTC(), "flag"
		return a, nil
	}
	if isTerminal(os.Stdin) && !p.v.json {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.v.printf("\n%s\n  Answer yes or no: ", p.v.bold(fmt.Sprintf("Step %s asks: %s", step, question)))
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return nil, fmt.Errorf("no answer from the terminal: %w", err)
		}
		a.Answer, a.By, a.At, a.Via = strings.TrimSpace(line), whoAmI(), time.Now().UTC(), "terminal"
		return a, nil
	}
	path := answerPath(p.store, p.runID, step)
	if p.v.json {
		p.v.event("runbook_prompt", map[string]any{"run_id": p.runID, "step": step, "question": question,
			"answer_with": fmt.Sprintf("drover runbook answer %s %s yes|no", p.runID, step)})
	}
	p.v.printf("%s asks: %s\n  Waiting for: drover runbook answer %s %s yes|no\n", step, question, p.runID, step)
	t := time.NewTicker(pollAnswer)
	defer t.Stop()
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			var got record.Answer
			if err := json.Unmarshal(b, &got); err != nil {
				return nil, fmt.Errorf("the answer file %s cannot be read: %w", path, err)
			}
			got.Question, got.Via = question, "command"
			return &got, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no answer came before the step was stopped (%w)", context.Cause(ctx))
		case <-t.C:
		}
	}
}

func answerPath(store *record.Store, runID, step string) string {
	return filepath.Join(store.RunDir(runID), "answers", step+".json")
}

func whoAmI() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// canonicalStep is the StepID of a step as a user names it (x, x[3],
// step.x["a"]), spelled as plans and records spell it.
func canonicalStep(s string) (string, error) {
	name, key, err := lang.ParseStepID(s)
	if err != nil {
		return "", err
	}
	return lang.StepID(name, key), nil
}

// approves tells whether the --approve entry a, a StepID, answers the
// prompt of step id: its own, or, naming a repeated step without a key,
// every instance's.
func approves(a, id string) bool {
	if a == id {
		return true
	}
	name, key, err := lang.ParseStepID(id)
	return err == nil && key.Kind != addrs.NoKey && name == a
}

// runRunbookAnswer writes the answer file a waiting prompt polls for.
func runRunbookAnswer(g *globalOptions, run, step, answer string) error {
	v := g.newView()
	if answer != "yes" && answer != "no" {
		return v.errorf("Invalid answer", "Answer yes or no, not %q.", answer)
	}
	step, err := canonicalStep(step)
	if err != nil {
		return v.errorf("Invalid step", "%s.", err)
	}
	store := record.NewStore(record.DefaultDir)
	rec, err := store.Load(run)
	if err != nil {
		return err
	}
	rs := rec.Step(step)
	if rs == nil || rs.Action != plan.StepPrompt {
		var prompts []string
		for _, s := range rec.Steps {
			if s.Action == plan.StepPrompt {
				prompts = append(prompts, s.Name)
			}
		}
		return v.errorf("No such prompt", "Run %s has no prompt step %q; its prompt steps are: %s.", rec.RunID, step, strings.Join(prompts, ", "))
	}
	if rs.Status != record.Running && rs.Status != record.Pending {
		return v.errorf("Prompt not waiting", "Step %q of run %s is %s: it waits for no answer.", step, rec.RunID, rs.Status)
	}
	b, _ := json.Marshal(record.Answer{Answer: answer, By: whoAmI(), At: time.Now().UTC()})
	path := answerPath(store, rec.RunID, step)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	v.printf("Answered %s to step %s of run %s.\n", answer, step, rec.RunID)
	return nil
}

// runRunbookStatus lists the runs the state records: in progress (to be
// continued) or in force, with what their steps hold.
func runRunbookStatus(ctx context.Context, g *globalOptions) error {
	v := g.newView()
	b, err := backend(v, quietConfig())
	if err != nil {
		return err
	}
	s, err := readState(ctx, b)
	if err != nil {
		return err
	}
	rbs := s.SortedRunbooks()
	if v.json {
		for _, rb := range rbs {
			held := []string{}
			for _, n := range rb.SortedSteps() {
				if rel := rb.Steps[n].Release; rel != nil {
					held = append(held, n+": "+rel.Summary)
				}
			}
			v.event("runbook_status", map[string]any{"runbook": rb.Name, "run_id": rb.RunID, "kind": rb.Kind, "in_force": rb.Done, "holds": held})
		}
		showDrillAges(v)
		return nil
	}
	if len(rbs) == 0 {
		v.printf("No runbook is in progress or in force.\n")
		showDrillAges(v)
		return nil
	}
	for _, rb := range rbs {
		what := "in progress (the next run continues it)"
		if rb.Done {
			what = "in force"
		}
		v.printf("runbook %q, run %s: %s\n", rb.Name, rb.RunID, what)
		for _, n := range rb.SortedSteps() {
			st := rb.Steps[n]
			line := fmt.Sprintf("  %-10s %s", st.Status, n)
			if st.Status == state.StepStarted {
				line += " (interrupted)"
			}
			if st.Release != nil {
				line += "; holds: " + st.Release.Summary
			}
			v.printf("%s\n", line)
		}
	}
	showDrillAges(v)
	return nil
}
