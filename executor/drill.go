package executor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/drover-dr/drover/drill"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/record"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
)

// DrillOptions shape a drill: a runbook run whose plan acts on clones
// (plan.Runbook.Drill).
type DrillOptions struct {
	// Run runs the steps. Its Journal must be nil: a drill never writes
	// the runbooks of the state (a failback must not take it for a
	// failover).
	Run RunbookOptions
	// Machine holds Dir, the run's folder, where the drill's inventory is
	// journalled.
	Machine host.Host
	Dir     string
	// Hosts reaches the hosts of the clones, by name.
	Hosts func(name string) (host.Host, error)
	// Keep leaves the drill environment up: no teardown, no proof.
	Keep bool
}

// RunDrill fingerprints the sources of the drill's clones, makes the
// clones (each journalled in the inventory before it is made), runs the
// runbook's steps on them, tears everything down in reverse, proves
// nothing is left, and fingerprints the sources again: a leak or a changed
// source fails the drill. The record (Kind Drill) carries it all.
func RunDrill(ctx context.Context, p *plan.Plan, prior *state.State, opts DrillOptions) hcl.Diagnostics {
	var diags hcl.Diagnostics
	d := p.Runbook.Drill
	if d == nil || opts.Run.Journal != nil {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not a drill",
			Detail: "This is not the plan of a drill, or it would journal in the state. Plan it with drover drill RUNBOOK."})
	}
	rec, store := opts.Run.Record, opts.Run.Records
	rec.Kind = record.Drill
	rec.Drill = &record.DrillRun{Folder: d.Folder, Reboots: d.Reboots, Clones: []*record.Clone{}, Inventory: []string{}}
	save := func() {
		if store != nil {
			if err := store.Save(rec); err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot write the run record", Detail: err.Error()})
			}
		}
	}
	fail := func(summary, format string, args ...any) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...)})
	}
	// failed ends a drill that stopped before its steps ran.
	failed := func() hcl.Diagnostics {
		rec.Finish(time.Now(), record.Failed)
		save()
		return diags
	}
	// Saved before anything is made: drover drill cleanup finds the
	// drills to finish by their records.
	save()
	inv, err := drill.OpenInventory(ctx, opts.Machine, opts.Dir, drill.InventoryOptions{Hosts: opts.Hosts})
	if err != nil {
		fail("Cannot open the drill's inventory", "%s: %s.", opts.Dir, err)
		return failed()
	}
	defer inv.Close()

	sources := map[string][]string{} // host → sources, in clone order
	var hosts []string
	var statted []*plan.DrillClone
	for _, c := range d.Clones {
		if !slices.Contains(hosts, c.Host) {
			hosts = append(hosts, c.Host)
		}
		if c.Manifest != "" {
			// A drive copy is proved by its per-block manifest and the
			// image's size and time: hashing a whole image twice would
			// cost the drill more than the rest of it.
			sources[c.Host] = append(sources[c.Host], c.Manifest)
			statted = append(statted, c)
			continue
		}
		sources[c.Host] = append(sources[c.Host], c.Source)
	}
	for _, name := range d.Isolated {
		if !slices.Contains(hosts, name) {
			hosts = append(hosts, name)
		}
	}
	reach := map[string]host.Host{}
	for _, name := range hosts {
		h, err := opts.Hosts(name)
		if err != nil {
			fail("Cannot reach the drill's host", "Host %q: %s.", name, err)
			return failed()
		}
		defer h.Close()
		reach[name] = h
	}
	before := map[string]drill.Fingerprints{}
	for name := range hostsOf(hosts, sources) {
		fp, err := drill.Fingerprint(ctx, reach[name], sources[name]...)
		if err != nil {
			fail("Cannot fingerprint production", "On host %q: %s. Nothing was cloned.", name, err)
			return failed()
		}
		before[name] = fp
		rec.Drill.Fingerprinted += len(sources[name])
	}

	stats := map[*plan.DrillClone]fs.FileInfo{}
	for _, c := range statted {
		fi, err := reach[c.Host].Lstat(ctx, c.Source)
		if err != nil {
			fail("Cannot fingerprint production", "On host %q: %s. Nothing was cloned.", c.Host, err)
			return failed()
		}
		stats[c] = fi
	}
	made := makeClones(ctx, inv, d, hosts, reach, rec)
	rec.Drill.Inventory = inventoryLines(inv)
	save()
	if made != nil {
		fail("Cannot make the drill's clones", "%s. What was made is torn down.", made)
		rec.Finish(time.Now(), record.Failed)
	} else {
		// The state RunRunbook returns has the run recorded; a drill's
		// is dropped.
		_, rd := RunRunbook(ctx, p, prior, opts.Run)
		diags = append(diags, rd...)
	}
	rec.Drill.Inventory = inventoryLines(inv)
	if opts.Keep && made == nil {
		rec.Drill.Kept = true
		save()
		return diags
	}
	diags = append(diags, TeardownDrill(context.WithoutCancel(ctx), inv, rec.Drill)...)
	for name := range hostsOf(hosts, sources) {
		after, err := drill.Fingerprint(context.WithoutCancel(ctx), reach[name], sources[name]...)
		if err != nil {
			fail("Cannot fingerprint production again", "On host %q: %s; whether the drill changed it is not known.", name, err)
			continue
		}
		for _, c := range drill.Changes(before[name], after) {
			rec.Drill.Changes = append(rec.Drill.Changes, name+":"+c.String())
		}
	}
	for _, c := range statted {
		fi, err := reach[c.Host].Lstat(context.WithoutCancel(ctx), c.Source)
		switch was := stats[c]; {
		case err != nil:
			fail("Cannot fingerprint production again", "On host %q: %s; whether the drill changed it is not known.", c.Host, err)
		case fi.Size() != was.Size() || !fi.ModTime().Equal(was.ModTime()):
			rec.Drill.Changes = append(rec.Drill.Changes, fmt.Sprintf("%s:%s: size or modification time changed", c.Host, c.Source))
		}
	}
	if len(d.Cleanup) > 0 {
		var hd hcl.Diagnostics
		rec.Drill.Cleanup, hd = runCleanup(ctx, d.Cleanup, opts.Run)
		diags = append(diags, hd...)
	}
	if len(rec.Drill.Changes) > 0 {
		fail("Production changed during the drill", "What the drill cloned changed between before and after the drill: %s. Something other than the drill's steps wrote it, or a step acted on production: find out before trusting the drill.",
			strings.Join(rec.Drill.Changes, "; "))
	}
	if diags.HasErrors() && rec.Status == record.Succeeded {
		rec.Status = record.Failed
	}
	save()
	return diags
}

// makeClones makes the drill's folder on each of hosts and the clones in
// it, where the plan put them.
func makeClones(ctx context.Context, inv *drill.Inventory, d *plan.Drill, hosts []string, reach map[string]host.Host, rec *record.Record) error {
	for _, name := range hosts {
		h := reach[name]
		// The folder is recorded before it is made, and only when it is
		// not there already: a teardown never removes what the drill did
		// not make.
		if _, err := h.Lstat(ctx, d.Folder); err == nil {
			return fmt.Errorf("the drill's folder %s on host %q is there already", d.Folder, name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if _, err := inv.Record(ctx, h, drill.Object{Kind: drill.File, ID: d.Folder, Note: "the drill's folder"}); err != nil {
			return err
		}
		if err := h.MkdirAll(ctx, d.Folder, 0o700); err != nil {
			return err
		}
	}
	for _, c := range d.Clones {
		h := reach[c.Host]
		dir := path.Join(d.Folder, "clones", path.Dir(c.Source))
		got, err := inv.Clone(ctx, h, c.Source, dir, drill.CloneOptions{Disk: c.Disk})
		if err != nil {
			return fmt.Errorf("cloning %s on host %q: %w", c.Source, c.Host, err)
		}
		rec.Drill.Clones = append(rec.Drill.Clones, &record.Clone{Host: c.Host, Source: c.Source, Path: got.Path, Method: string(got.Method), Warning: got.Warning, For: c.For})
		if got.Path != c.Path {
			// The steps name the planned path: a clone elsewhere (a
			// reflink refused for a disk) is one they would not find.
			return fmt.Errorf("the clone of %s on host %q is %s, not %s as planned (%s); plan the drill again", c.Source, c.Host, got.Path, c.Path, got.Warning)
		}
	}
	return nil
}

// TeardownDrill removes what the drill's inventory lists, last made first,
// and proves nothing is left, filling run's TornDown and Leaks. It may run
// again, in another process, after any interruption.
func TeardownDrill(ctx context.Context, inv *drill.Inventory, run *record.DrillRun) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if err := inv.Teardown(ctx); err != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Drill teardown failed",
			Detail: fmt.Sprintf("%s. Fix what stops it and run drover drill cleanup.", err)})
	} else {
		run.TornDown = true
	}
	leaks, err := inv.Prove(ctx)
	if err != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Drill teardown not proved",
			Detail: fmt.Sprintf("%s. Whether those objects are gone is not known; check them and run drover drill cleanup.", err)})
	}
	run.Leaks = nil
	for _, l := range leaks {
		run.Leaks = append(run.Leaks, l.String())
	}
	if len(leaks) > 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "The drill left objects behind",
			Detail: fmt.Sprintf("After the teardown: %s. Remove them, or run drover drill cleanup.", strings.Join(run.Leaks, "; "))})
	}
	return diags
}

func inventoryLines(inv *drill.Inventory) []string {
	var out []string
	for _, o := range inv.Objects() {
		out = append(out, o.String())
	}
	return slices.Clip(out)
}

// CleanupDrill finishes the drill whose run folder is dir on machine: a
// drill kept up (--keep), or one killed before its teardown ended. It
// tears down what the inventory lists and proves it, in rec's Drill.
func CleanupDrill(ctx context.Context, machine host.Host, dir string, hosts func(string) (host.Host, error), rec *record.Record) hcl.Diagnostics {
	inv, err := drill.OpenInventory(ctx, machine, dir, drill.InventoryOptions{Hosts: hosts})
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot open the drill's inventory", Detail: fmt.Sprintf("%s: %s.", dir, err)}}
	}
	defer inv.Close()
	if rec.Drill == nil {
		rec.Drill = &record.DrillRun{}
	}
	diags := TeardownDrill(ctx, inv, rec.Drill)
	rec.Drill.Kept = false
	rec.Drill.Inventory = inventoryLines(inv)
	if rec.Status == record.Running {
		// Killed mid-way: its steps did not all end.
		rec.Status = record.Interrupted
	}
	return diags
}

// runCleanup runs the drill block's cleanup hooks in order, each as a run
// step of its own (its output kept in the run's record), going on past a
// failure: a hook that fails must not keep the others from cleaning up.
func runCleanup(ctx context.Context, hooks []*plan.Step, opts RunbookOptions) ([]*record.Step, hcl.Diagnostics) {
	if opts.Kill == nil {
		opts.Kill = context.WithoutCancel(ctx)
	}
	r := &runbookRun{rb: &plan.Runbook{Steps: hooks}, opts: opts, runID: opts.Record.RunID}
	var diags hcl.Diagnostics
	var out []*record.Step
	for _, s := range hooks {
		rs := &record.Step{Name: s.Name, Action: s.Action, Summary: s.Summary, Host: s.Host, Status: record.Running, StartedAt: time.Now().UTC(), Attempts: 1}
		if opts.Hooks != nil {
			opts.Hooks.StepStarted(s, 1)
		}
		o := r.attempt(s)
		rs.FinishedAt, rs.ExitCode, rs.Output, rs.Status = time.Now().UTC(), o.exitCode, o.output, record.Succeeded
		if o.diags.HasErrors() {
			rs.Status, rs.Error = record.Failed, diagText(o.diags)
		}
		diags = append(diags, o.diags...)
		if opts.Hooks != nil {
			opts.Hooks.StepFinished(s, rs)
		}
		out = append(out, rs)
	}
	return out, diags
}

// hostsOf yields, in the order of hosts, those with sources to fingerprint.
func hostsOf(hosts []string, sources map[string][]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, name := range hosts {
			if len(sources[name]) > 0 && !yield(name) {
				return
			}
		}
	}
}
