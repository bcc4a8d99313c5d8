package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/executor"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/record"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"github.com/zclconf/go-cty/cty"
)

// drillOptions are the flags of drover drill.
type drillOptions struct {
	runbookOptions
	keep bool
}

// drillInterrupts are what the first and the second signal do to a drill.
var drillInterrupts = map[string]string{
	annotationInterrupted: "Interrupt received: letting running steps finish, then tearing the drill down. Press Ctrl-C again to stop at once.",
	annotationStopped:     "Stopping at once: the running steps are killed. The drill's clones are torn down by the next drover drill, or by drover drill cleanup.",
}

func newDrillCommand(g *globalOptions) *cobra.Command {
	o := &drillOptions{}
	cmd := &cobra.Command{
		Use:   "drill [RUNBOOK]",
		Short: "Rehearse a runbook on clones, tear down, and prove nothing is left",
		Long: `Plans a drill of the runbook "failover" (or RUNBOOK), as plan --runbook NAME --drill
shows it, asks for "yes" unless --auto-approve, then fingerprints what it clones, makes
the clones (each journalled in the run's folder before it is made), runs the runbook's
steps on them, tears everything down last made first, proves nothing is left and that
production did not change. The state's runbooks are never written: a drill is not a
failover. With --keep the clones stay up.

` + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "failover"
			if len(args) == 1 {
				name = args[0]
			}
			return runDrill(cmd.Context(), g, o, name)
		},
	}
	o.addFlags(cmd)
	cmd.Annotations = drillInterrupts
	cmd.Flags().BoolVar(&o.keep, "keep", false, "leave the drill's clones up for inspection, torn down later by drover drill cleanup")
	co := &planOptions{parallelism: 1}
	cleanup := &cobra.Command{
		Use:   "cleanup [RUN]",
		Short: "Tear down a drill kept up or killed, and prove nothing is left",
		Long: `Tears down what the inventory of drill RUN (a unique prefix will do) lists, last made
first, and proves nothing of it is left; without RUN, every drill whose teardown is not
proved yet (kept with --keep, or killed). The record says so.

` + exitCodesHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDrillCleanup(cmd.Context(), g, co, args)
		},
	}
	co.varOptions.addFlags(cleanup)
	co.lockOptions.addFlags(cleanup)
	cmd.AddCommand(cleanup)
	return cmd
}

func runDrillCleanup(ctx context.Context, g *globalOptions, o *planOptions, args []string) error {
	s, err := o.open(ctx, g, "drill cleanup")
	if err != nil {
		return err
	}
	defer s.close()
	v := s.v
	// The providers give back what a drill kept up holds.
	if err := configureProviders(ctx, v, s.cfg, s.popts); err != nil {
		return err
	}
	store := record.NewStore(record.DefaultDir)
	var recs []*record.Record
	if len(args) == 1 {
		rec, err := store.Load(args[0])
		if err != nil {
			return err
		}
		if rec.Kind != record.Drill {
			return v.errorf("Not a drill", "Run %s is a %s of runbook %q, not a drill: there is nothing to tear down.", rec.RunID, rec.Kind, rec.Runbook)
		}
		recs = append(recs, rec)
	} else {
		if recs, err = unfinishedDrills(store, true); err != nil {
			return err
		}
		if len(recs) == 0 {
			v.printf("No drill is left to clean up.\n")
			return nil
		}
	}
	if cleanupDrills(ctx, v, s, store, recs) {
		return errReported
	}
	return nil
}

// unfinishedDrills are the drills whose teardown is not proved: killed
// before its end, or failed, and with kept those kept up (--keep).
func unfinishedDrills(store *record.Store, kept bool) ([]*record.Record, error) {
	all, err := store.List()
	if err != nil {
		return nil, err
	}
	var out []*record.Record
	for _, rec := range all {
		d := rec.Drill
		if rec.Kind != record.Drill || d == nil || d.Kept && !kept {
			continue
		}
		if d.Kept || !d.TornDown || len(d.Leaks) > 0 {
			out = append(out, rec)
		}
	}
	return out, nil
}

// cleanupDrills tears down and proves each drill of recs, saving their
// records, and says whether it reported errors.
func cleanupDrills(ctx context.Context, v *view, s *session, store *record.Store, recs []*record.Record) bool {
	reported := false
	for _, rec := range recs {
		dir, err := filepath.Abs(store.RunDir(rec.RunID))
		diags := hcl.Diagnostics{}
		if err == nil {
			diags = executor.CleanupDrill(ctx, host.NewLocal(planner.DrillMachine, ""), dir, configHosts(s.cfg, s.popts.Variables), s.popts.Providers, rec)
			err = store.Save(rec)
		}
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot save the drill's record",
				Detail: fmt.Sprintf("Drill %s: %s.", rec.RunID, err)})
		}
		reported = v.diagnostics(diags) || reported
		if v.json {
			v.event("drill_cleaned", map[string]any{"run_id": rec.RunID, "torn_down": rec.Drill.TornDown, "leaks": rec.Drill.Leaks})
		} else if rec.Drill.TornDown && len(rec.Drill.Leaks) == 0 {
			proof := ""
			if d := rec.Drill; d.Fingerprinted > 0 && len(d.Changes) == 0 {
				proof = fmt.Sprintf("; production unchanged (%d objects fingerprinted)", d.Fingerprinted)
			}
			v.printf("Drill %s of runbook %q: torn down, %d objects, nothing left%s.\n", rec.RunID, rec.Runbook, len(rec.Drill.Inventory), proof)
		}
	}
	return reported
}

func runDrill(ctx context.Context, g *globalOptions, o *drillOptions, name string) error {
	s, err := o.open(ctx, g, "drill")
	if err != nil {
		return err
	}
	defer s.close()
	v := s.v
	if err := configureProviders(ctx, v, s.cfg, s.popts); err != nil {
		return err
	}
	// A drill killed before its teardown ended is finished first: its
	// clones must not outlive it, nor stand in this one's way.
	store := record.NewStore(record.DefaultDir)
	killed, err := unfinishedDrills(store, false)
	if err != nil {
		return err
	}
	if cleanupDrills(ctx, v, s, store, killed) {
		return errReported
	}
	s.popts.Runbook = runbookRequest(name, runbookKind(name), o.allowOverBudget)
	s.popts.Runbook.Drill = true
	p, err := makePlan(ctx, v, s.cfg, s.prior, s.popts)
	if err != nil {
		return err
	}
	if !o.autoApprove {
		if v.json {
			return fmt.Errorf("--json needs --auto-approve: there is no one to ask")
		}
		if err := ask(v, fmt.Sprintf("Do you want to drill runbook %q?", p.Runbook.Name)); err != nil {
			return errRunDeclined
		}
	}
	rec, err := runRecord(store, p.Runbook, configIdentity)
	if err != nil {
		return err
	}
	kill, stopSteps := context.WithCancel(context.Background())
	defer stopSteps()
	var running sync.WaitGroup
	running.Add(1)
	g.interrupts.onStop(func() {
		stopSteps()
		waitWithin(&running, 5*time.Second)
	})
	dir, err := filepath.Abs(store.RunDir(rec.RunID))
	if err != nil {
		return err
	}
	if v.json {
		v.event("drill_started", map[string]any{"runbook": p.Runbook.Name, "run_id": rec.RunID, "record": dir})
	} else {
		v.printf("\nDrill %s of runbook %q; its record and inventory are in %s.\n\n", rec.RunID, p.Runbook.Name, dir)
	}
	diags := executor.RunDrill(ctx, p, s.prior, executor.DrillOptions{
		Run: executor.RunbookOptions{
			Providers:   s.popts.Providers,
			Parallelism: s.popts.Parallelism,
			Hooks:       &runbookHooks{v: v},
			Record:      rec,
			Records:     store,
			Kill:        kill,
			Prompter:    newPrompter(v, store, rec.RunID, o.approve),
			Steps:       planner.NewStepPlanner(s.cfg, s.popts),
		},
		Machine: host.NewLocal(planner.DrillMachine, ""),
		Dir:     dir,
		Hosts:   configHosts(s.cfg, s.popts.Variables),
		Keep:    o.keep,
	})
	running.Done()
	reported := v.diagnostics(diags)
	showDrillOutcome(v, rec)
	if reported {
		return errReported
	}
	return nil
}

// configHosts reaches the configuration's hosts by name.
func configHosts(cfg *lang.Config, vars map[string]cty.Value) func(string) (host.Host, error) {
	return func(name string) (host.Host, error) {
		hv, diags := planner.Host(cfg, vars, name)
		if diags.HasErrors() {
			return nil, diags
		}
		return host.FromValue(hv)
	}
}

// showDrillOutcome says what a drill proved.
func showDrillOutcome(v *view, rec *record.Record) {
	d := rec.Drill
	if d == nil {
		return
	}
	if v.json {
		v.event("drill_summary", map[string]any{"runbook": rec.Runbook, "run_id": rec.RunID, "status": rec.Status, "clones": len(d.Clones),
			"kept": d.Kept, "torn_down": d.TornDown, "leaks": d.Leaks, "changes": d.Changes, "fingerprinted": d.Fingerprinted})
		return
	}
	var what []string
	switch {
	case d.Kept:
		what = append(what, fmt.Sprintf("%d clones kept in %s (drover drill cleanup %s ends it)", len(d.Clones), d.Folder, rec.RunID))
	case d.TornDown && len(d.Leaks) == 0:
		what = append(what, fmt.Sprintf("%d clones torn down, nothing left", len(d.Clones)))
	case len(d.Leaks) > 0:
		what = append(what, fmt.Sprintf("%d objects left after the teardown", len(d.Leaks)))
	default:
		what = append(what, "teardown not finished (drover drill cleanup "+rec.RunID+" finishes it)")
	}
	if !d.Kept {
		if len(d.Changes) == 0 {
			what = append(what, fmt.Sprintf("production unchanged (%d objects fingerprinted)", d.Fingerprinted))
		} else {
			what = append(what, fmt.Sprintf("production CHANGED (%d differences)", len(d.Changes)))
		}
	}
	v.printf("\n%s\n", v.bold(fmt.Sprintf("Drill of runbook %q %s: %s; %s. Run %s.", rec.Runbook, rec.Status, runTally(rec), strings.Join(what, "; "), rec.RunID)))
}

// lastDrill is when the last successful drill of runbook ended, among
// recs: one whose steps succeeded, torn down with nothing left and
// production unchanged; zero when there is none.
func lastDrill(recs []*record.Record, runbook string) (time.Time, string) {
	var last time.Time
	var id string
	for _, r := range recs {
		d := r.Drill
		if r.Kind != record.Drill || r.Runbook != runbook || r.Status != record.Succeeded || d == nil ||
			!d.TornDown || len(d.Leaks) > 0 || len(d.Changes) > 0 {
			continue
		}
		if r.FinishedAt.After(last) {
			last, id = r.FinishedAt, r.RunID
		}
	}
	return last, id
}

// showDrillAges says, for each runbook drilled successfully, how long ago
// its last successful drill ended.
func showDrillAges(v *view) {
	recs, _ := record.NewStore(record.DefaultDir).List()
	var names []string
	for _, r := range recs {
		if r.Kind == record.Drill && !slices.Contains(names, r.Runbook) {
			names = append(names, r.Runbook)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		last, id := lastDrill(recs, name)
		if v.json {
			ev := map[string]any{"runbook": name}
			if !last.IsZero() {
				ev["last_drill"], ev["run_id"] = last.UTC().Format(time.RFC3339), id
			}
			v.event("runbook_drill", ev)
			continue
		}
		if last.IsZero() {
			v.printf("runbook %q: no successful drill yet\n", name)
			continue
		}
		v.printf("runbook %q: last successful drill %s ago (run %s)\n", name, plan.RoundDuration(time.Since(last)), id)
	}
}

// showDrillPlanEvents renders what a drill's plan clones, the network
// namespaces (with their UTS pins) it makes, the guests its steps start
// and what it runs after its teardown as JSON events.
func showDrillPlanEvents(v *view, d *plan.Drill) {
	for _, c := range d.Clones {
		v.event("drill_clone_planned", map[string]any{"host": c.Host, "source": c.Source, "path": c.Path, "method": c.Method,
			"why": c.Why, "warning": c.Warning, "for": c.For})
	}
	for _, ns := range d.Namespaces {
		ifaces := []map[string]any{}
		for _, i := range ns.Interfaces {
			ifaces = append(ifaces, map[string]any{"name": i.Name, "addresses": i.Addresses})
		}
		ev := map[string]any{"host": ns.Host, "name": ns.Name, "interfaces": ifaces, "for": ns.For}
		if ns.UTS {
			ev["uts"] = host.Config{Netns: ns.Name}.UTSPin()
		}
		v.event("drill_netns_planned", ev)
	}
	for _, g := range d.Guests {
		v.event("drill_guest_planned", map[string]any{"host": g.Host, "for": g.For, "serial": g.Serial, "state_dir": g.StateDir})
	}
	for _, s := range d.Cleanup {
		v.event("drill_cleanup_planned", map[string]any{"name": s.Name, "host": s.Host, "summary": s.Summary})
	}
}
