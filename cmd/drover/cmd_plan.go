package main

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/drover-dr/drover/internal/atomicfile"

	"github.com/drover-dr/drover/cmd/drover/internal/render"
	"github.com/drover-dr/drover/internal/warmup"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/replication"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// planOptions are the flags shared by plan, apply and destroy.
type planOptions struct {
	varOptions
	lockOptions
	hostKeyOptions
	targets     []string
	replace     []string
	refreshOnly bool
	refresh     bool
	destroy     bool
	parallelism int
	// allowMassDelete lets replication sets through their max_delete and
	// replaced sources, for this run: a setting of the replication
	// provider, as its provider block could give for good.
	allowMassDelete bool
}

func (o *planOptions) addFlags(cmd *cobra.Command, destroyFlag bool) {
	o.varOptions.addFlags(cmd)
	o.lockOptions.addFlags(cmd)
	o.hostKeyOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&o.targets, "target", nil, "plan only `ADDR` and what it depends on (repeatable)")
	f.StringArrayVar(&o.replace, "replace", nil, "replace `ADDR` even if it has not changed (repeatable)")
	f.BoolVar(&o.refreshOnly, "refresh-only", false, "only record what changed outside Drover (drift)")
	f.BoolVar(&o.refresh, "refresh", true, "read the current state of every resource first")
	f.IntVar(&o.parallelism, "parallelism", 10, "run at most `N` provider operations at once")
	f.BoolVar(&o.allowMassDelete, "allow-mass-delete", false, "let replication sets delete more than their max_delete, or mirror a replaced source")
	if destroyFlag {
		f.BoolVar(&o.destroy, "destroy", false, "plan to destroy everything in the state")
	}
}

func (o *planOptions) mode() plan.Mode {
	switch {
	case o.destroy:
		return plan.Destroy
	case o.refreshOnly:
		return plan.RefreshOnly
	}
	return plan.Normal
}

// plannerOptions turns the flags into planner options.
func (o *planOptions) plannerOptions(v *view, cfg *lang.Config, reg *providers.Registry) (planner.Options, error) {
	vars, err := o.variables(v, cfg)
	if err != nil {
		return planner.Options{}, err
	}
	targets, err := parseAddrs("target", o.targets)
	if err != nil {
		return planner.Options{}, err
	}
	replace, err := parseAddrs("replace", o.replace)
	if err != nil {
		return planner.Options{}, err
	}
	if o.parallelism < 1 {
		return planner.Options{}, fmt.Errorf("--parallelism must be at least 1")
	}
	reg.SetParallelism(o.parallelism)
	if o.allowMassDelete {
		reg.SetSetting(replication.Name, "allow_mass_delete", cty.True)
	}
	return planner.Options{
		Providers: reg, Mode: o.mode(), Variables: vars, Targets: targets, Replace: replace,
		SkipRefresh: !o.refresh, Parallelism: o.parallelism, Hooks: planHooks{v: v},
	}, nil
}

// usedProviders lists the providers the configuration's resources and
// provider blocks name.
func usedProviders(cfg *lang.Config, reg *providers.Registry) []string {
	seen := map[string]bool{}
	for name := range cfg.Providers {
		seen[name] = true
	}
	for _, rc := range cfg.Resources {
		if name, ok := reg.Resolve(rc.Addr.Type, rc.Provider); ok {
			seen[name] = true
		}
	}
	return slices.Collect(maps.Keys(seen))
}

// makePlan plans and shows the plan.
func makePlan(ctx context.Context, v *view, cfg *lang.Config, prior *state.State, opts planner.Options) (*plan.Plan, error) {
	p, diags := planner.Plan(ctx, cfg, prior, opts)
	if p != nil && !diags.HasErrors() {
		showPlan(v, p)
	}
	if err := v.fail(diags); err != nil {
		return nil, err
	}
	return p, nil
}

// configureProviders configures the providers that have provider blocks,
// with the variables the plan is made or applied with.
func configureProviders(ctx context.Context, v *view, cfg *lang.Config, opts planner.Options) error {
	return v.fail(planner.ConfigureProviders(ctx, cfg, opts.Variables, opts.Providers))
}

// showPlan renders a plan for people or as a summary event.
func showPlan(v *view, p *plan.Plan) {
	if p.Runbook != nil {
		showRunbookPlan(v, p.Runbook)
		return
	}
	if v.json {
		for _, m := range p.Moved {
			v.event("resource_moved", map[string]any{"from": m.From.String(), "to": m.To.String()})
		}
		c := p.Counts()
		v.event("change_summary", map[string]any{"operation": "plan", "import": c.Import, "forget": c.Forget, "add": c.Add, "change": c.Change,
			"destroy": c.Destroy, "read": c.Read, "has_changes": p.HasChanges()})
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	render.Plan(v.out, p, render.Options{Color: v.color})
}

type planCmdOptions struct {
	planOptions
	out              string
	detailedExitcode bool
	runbook          string
	allowOverBudget  bool
	drill            bool
}

func newPlanCommand(g *globalOptions) *cobra.Command {
	o := &planCmdOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change",
		Long: `Refreshes every resource through its provider, compares the configuration with the
state, and shows exactly what apply would do. With --out the plan is saved for
` + "`drover apply FILE`" + ` to apply exactly; ` + "`drover show FILE`" + ` renders it again.

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runPlan(cmd.Context(), g, o) },
	}
	o.addFlags(cmd, true)
	cmd.Flags().StringVar(&o.out, "out", "", "save the plan to `FILE`")
	cmd.Flags().BoolVar(&o.detailedExitcode, "detailed-exitcode", false, "exit 0 when nothing changes, 2 when something does, 1 on error")
	cmd.Flags().StringVar(&o.runbook, "runbook", "", "plan the run of runbook `NAME` instead: its steps in wave order, those already done skipped")
	cmd.Flags().BoolVar(&o.allowOverBudget, "allow-over-budget", false, "with --runbook: warn of a runbook over its rpo or rto instead of refusing it")
	cmd.Flags().BoolVar(&o.drill, "drill", false, "with --runbook: preview a drill of the runbook instead, what it clones, where each step acts and the teardown")
	return cmd
}

// session is what plan, apply and destroy share: the configuration, the
// providers, the planner options and the locked state.
type session struct {
	v       *view
	cfg     *lang.Config
	popts   planner.Options
	backend state.Backend
	prior   *state.State
	close   func()
}

// open loads the configuration, verifies the hosts on other machines
// (verifyHosts), takes the state lock for operation and reads the state;
// the providers the configuration uses start, and the state is locked and
// read, while the hosts are checked: none of it acts on a host, and
// nothing returns before every host is verified.
// When no configuration file can name a backend, the state's place is
// known before the configuration is parsed, and it is locked and read
// while the parsing runs, and the built-in providers the state names
// start then. close releases it all.
func (o *planOptions) open(ctx context.Context, g *globalOptions, operation string) (*session, error) {
	s := &session{v: g.newView(), close: func() {}}
	files := configFiles()
	if largeWorkspace(files) {
		warmup.HugeHeap()
	}
	reg, err := builtinRegistry()
	if err != nil {
		return nil, err
	}
	var locked chan lockedState
	lockCtx, cancelLock := context.WithCancel(ctx)
	defer cancelLock()
	lock := func(cfg *lang.Config) {
		locked = make(chan lockedState, 1)
		go func() {
			ls := o.lockAndRead(lockCtx, cfg, operation)
			if ls.err == nil && !ls.diags.HasErrors() {
				reg.Prestart(ctx, ls.prior.Providers()...)
			}
			locked <- ls
		}()
	}
	if !mayNameBackend(files) {
		lock(nil)
	}
	// abandon stops waiting for a lock held elsewhere, releases it if
	// taken, and ends the providers started.
	abandon := func() {
		if locked != nil {
			cancelLock()
			(<-locked).release()
		}
		reg.Close()
	}
	if s.cfg, err = loadConfig(s.v); err != nil {
		abandon()
		return nil, err
	}
	if configInstances(s.cfg) >= manyInstances {
		warmup.HugeHeap()
	}
	if err = addInstalled(reg, s.cfg); err == nil {
		s.popts, err = o.plannerOptions(s.v, s.cfg, reg)
	}
	var verified func() error
	if err == nil {
		verified, err = verifyHosts(ctx, s.v, s.cfg, s.popts.Variables, o.trustNewHostKeys)
	}
	if err != nil {
		abandon()
		return nil, err
	}
	reg.Prestart(ctx, usedProviders(s.cfg, reg)...)
	if locked == nil {
		lock(s.cfg)
	}
	if err := verified(); err != nil {
		abandon()
		return nil, err
	}
	ls := <-locked
	if ls.err == nil {
		ls.err = s.v.fail(ls.diags)
	}
	if ls.err != nil {
		ls.release()
		reg.Close()
		return nil, ls.err
	}
	s.backend, s.prior = ls.backend, ls.prior
	s.close = func() { ls.release(); reg.Close() }
	return s, nil
}

// lockedState is the state read under its lock, or why it could not be.
type lockedState struct {
	backend state.Backend
	prior   *state.State
	unlock  func() error
	// diags are the backend configuration's, for the caller to show
	// after the host check's.
	diags hcl.Diagnostics
	err   error
}

// release gives the lock back, if it was taken.
func (l lockedState) release() {
	if l.unlock != nil {
		l.unlock()
	}
}

// lockAndRead opens the backend cfg names (the default one for nil),
// takes the lock for operation and reads the state. It prints nothing.
func (o *planOptions) lockAndRead(ctx context.Context, cfg *lang.Config, operation string) lockedState {
	var ls lockedState
	if ls.backend, ls.diags, ls.err = openBackend(cfg); ls.err != nil || ls.diags.HasErrors() {
		return ls
	}
	if ls.unlock, ls.err = o.take(ctx, ls.backend, operation); ls.err != nil {
		return ls
	}
	if ls.prior, ls.err = readState(ctx, ls.backend); ls.err != nil {
		ls.release()
		ls.unlock = nil
	}
	return ls
}

func runPlan(ctx context.Context, g *globalOptions, o *planCmdOptions) error {
	s, err := o.open(ctx, g, "plan")
	if err != nil {
		return err
	}
	defer s.close()
	v := s.v
	if err := configureProviders(ctx, v, s.cfg, s.popts); err != nil {
		return err
	}
	switch {
	case o.drill && o.runbook == "":
		return v.errorf("Drill of no runbook", "--drill previews a drill of a runbook: add --runbook NAME, like drover plan --runbook failover --drill.")
	case o.drill && o.out != "":
		// A saved drill plan would run, through failover, as a real one.
		return v.errorf("Drill plans are not saved", "A drill is planned again each time it runs (drover drill RUNBOOK); leave out --out.")
	}
	if o.runbook != "" {
		s.popts.Runbook = runbookRequest(o.runbook, runbookKind(o.runbook), o.allowOverBudget)
		s.popts.Runbook.Drill = o.drill
	}
	p, err := makePlan(ctx, v, s.cfg, s.prior, s.popts)
	if err != nil {
		return err
	}
	if o.out != "" {
		if err := savePlan(s.backend, o.out, p); err != nil {
			return err
		}
		if p.Runbook != nil {
			v.printf("\nSaved the runbook plan to %s. To run exactly this plan, run: drover %s %s\n", o.out, runbookCommand(p.Runbook.Kind), o.out)
		} else {
			v.printf("\nSaved the plan to %s. To apply exactly this plan, run: drover apply %s\n", o.out, o.out)
		}
	}
	if o.detailedExitcode && p.HasChanges() {
		return errChanges
	}
	return nil
}

// savePlan writes the plan document sealed with the workspace's plan key,
// atomically, readable only by its owner.
func savePlan(sb state.Backend, path string, p *plan.Plan) error {
	key, err := planKey(sb, plan.EnsureKey)
	if err != nil {
		return err
	}
	b, err := plan.Seal(p, key)
	if err != nil {
		return fmt.Errorf("encoding the plan: %w", err)
	}
	if err := atomicfile.Write(path, append(b, '\n')); err != nil {
		return fmt.Errorf("saving the plan: %w", err)
	}
	return nil
}
