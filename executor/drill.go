package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/drover-dr/drover/drill"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
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
	// What the steps' resources hold is journalled in the run's folder,
	// never in the state.
	held, err := openHeld(ctx, opts.Machine, opts.Dir)
	if err != nil {
		fail("Cannot open the drill's journal", "%s.", err)
		return failed()
	}
	defer held.Close()
	run := opts.Run
	run.Journal = held

	var hosts []string
	var sources []protected
	for _, c := range d.Clones {
		if !slices.Contains(hosts, c.Host) {
			hosts = append(hosts, c.Host)
		}
		sources = append(sources, protected{Host: c.Host, Path: c.Source, Manifest: c.Manifest})
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
	before, err := fingerprints(ctx, sources, reach)
	if err == nil {
		err = saveFingerprints(ctx, opts.Machine, opts.Dir, before)
	}
	if err != nil {
		fail("Cannot fingerprint production", "%s. Nothing was cloned.", err)
		return failed()
	}
	rec.Drill.Fingerprinted = len(sources)
	made := makeClones(ctx, inv, d, hosts, reach, rec)
	if made == nil {
		made = makeNamespaces(ctx, inv, opts.Machine, d)
	}
	if made == nil {
		made = recordGuests(ctx, inv, d, reach)
	}
	rec.Drill.Inventory = inventoryLines(inv)
	save()
	if made != nil {
		fail("Cannot make the drill's clones", "%s. What was made is torn down.", made)
		rec.Finish(time.Now(), record.Failed)
	} else {
		// The state RunRunbook returns has the run recorded; a drill's
		// is dropped.
		final, rd := RunRunbook(ctx, p, prior, run)
		diags = append(diags, rd...)
		if !opts.Keep {
			rd := releaseHeld(context.WithoutCancel(ctx), heldByDrill(p.Runbook, final), run.Providers, run.Parallelism, held)
			if !rd.HasErrors() {
				rd = append(rd, forgetHeld(context.WithoutCancel(ctx), opts.Machine, opts.Dir)...)
			}
			diags = append(diags, rd...)
		}
	}
	rec.Drill.Inventory = inventoryLines(inv)
	if opts.Keep && made == nil {
		rec.Drill.Kept = true
		save()
		return diags
	}
	diags = append(diags, TeardownDrill(context.WithoutCancel(ctx), inv, rec.Drill)...)
	diags = append(diags, proveProduction(context.WithoutCancel(ctx), sources, reach, before, rec.Drill)...)
	if len(d.Cleanup) > 0 {
		var hd hcl.Diagnostics
		rec.Drill.Cleanup, hd = runCleanup(ctx, d.Cleanup, run)
		diags = append(diags, hd...)
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
		rec.Drill.Clones = append(rec.Drill.Clones, &record.Clone{Host: c.Host, Source: c.Source, Path: got.Path, Method: string(got.Method), Warning: got.Warning, Manifest: c.Manifest, For: c.For})
		if got.Path != c.Path {
			// The steps name the planned path: a clone elsewhere (a
			// reflink refused for a disk) is one they would not find.
			return fmt.Errorf("the clone of %s on host %q is %s, not %s as planned (%s); plan the drill again", c.Source, c.Host, got.Path, c.Path, got.Warning)
		}
	}
	return nil
}

// makeNamespaces makes the drill's network namespaces on machine, where
// the plan put its steps' network resources, each with its UTS namespace
// when a step's host name goes there.
func makeNamespaces(ctx context.Context, inv *drill.Inventory, machine host.Host, d *plan.Drill) error {
	for _, ns := range d.Namespaces {
		var ifaces []drill.Interface
		for _, i := range ns.Interfaces {
			ifc := drill.Interface{Name: i.Name}
			for _, a := range i.Addresses {
				p, err := netip.ParsePrefix(a)
				if err != nil {
					return fmt.Errorf("the drill's network namespace %s: %w", ns.Name, err)
				}
				ifc.Addresses = append(ifc.Addresses, p)
			}
			ifaces = append(ifaces, ifc)
		}
		if err := inv.Namespace(ctx, machine, ns.Name, "the network of "+ns.Host+" for "+strings.Join(ns.For, ", "), ifaces); err != nil {
			return err
		}
		if ns.UTS {
			pin := host.Config{Netns: ns.Name}.UTSPin()
			if err := inv.UTSNamespace(ctx, machine, pin, "the host name of "+ns.Host+" for "+strings.Join(ns.For, ", ")); err != nil {
				return err
			}
		}
	}
	return nil
}

// qemuPidfile is the pidfile QEMU is started with in a guest's state
// folder (the vm provider's).
const qemuPidfile = "qemu.pid"

// recordGuests journals the QEMU of each guest the steps will start, by
// the machine path of its pidfile, before any starts: a drill killed with
// its guests running leaves them in its inventory, for the teardown to
// stop and prove gone.
func recordGuests(ctx context.Context, inv *drill.Inventory, d *plan.Drill, reach map[string]host.Host) error {
	for _, g := range d.Guests {
		h := reach[g.Host]
		// The state folder is not made yet; the drill's folder is, and
		// holds it.
		rel, err := filepath.Rel(d.Folder, g.StateDir)
		if err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("the state folder %s of %s is outside the drill's folder %s", g.StateDir, g.For, d.Folder)
		}
		base, err := h.RealPath(ctx, d.Folder)
		if err != nil {
			return err
		}
		if _, err := inv.Record(ctx, h, drill.Object{Kind: drill.QEMU, ID: path.Join(base, rel, qemuPidfile), Note: "the QEMU of " + g.For}); err != nil {
			return err
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
// gives back what its steps' resources hold (with the providers of reg), tears down what the inventory lists and proves it, in rec's
// Drill.
func CleanupDrill(ctx context.Context, machine host.Host, dir string, hosts func(string) (host.Host, error), reg *providers.Registry, rec *record.Record) hcl.Diagnostics {
	inv, err := drill.OpenInventory(ctx, machine, dir, drill.InventoryOptions{Hosts: hosts})
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot open the drill's inventory", Detail: fmt.Sprintf("%s: %s.", dir, err)}}
	}
	defer inv.Close()
	if rec.Drill == nil {
		rec.Drill = &record.DrillRun{}
	}
	// Given back first, while the drill's namespace still holds their
	// addresses.
	diags := releaseDrill(ctx, machine, dir, reg)
	diags = append(diags, TeardownDrill(ctx, inv, rec.Drill)...)
	rec.Drill.Kept = false
	rec.Drill.Inventory = inventoryLines(inv)
	diags = append(diags, proveSaved(ctx, machine, dir, hosts, rec.Drill)...)
	switch {
	case rec.Status == record.Running:
		// Killed mid-way: its steps did not all end.
		rec.Status = record.Interrupted
	case diags.HasErrors() && rec.Status == record.Succeeded:
		// Its steps succeeded, but the drill did not prove itself.
		rec.Status = record.Failed
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

// protected is a source a drill cloned, as its fingerprints are taken: in
// full, or for a drive copy by its per-block manifest and the image's
// size and time (hashing a whole image twice would cost the drill more
// than the rest of it).
type protected struct {
	Host, Path, Manifest string
}

// fingerprintsName is the file, in the run's folder, of production's
// fingerprints taken before the drill: drover drill cleanup compares
// them after the teardown of a drill kept up or killed.
const fingerprintsName = "fingerprints.json"

// fingerprints reads the sources, by host.
func fingerprints(ctx context.Context, sources []protected, reach map[string]host.Host) (map[string]drill.Fingerprints, error) {
	out := map[string]drill.Fingerprints{}
	for _, p := range sources {
		h := reach[p.Host]
		path := p.Path
		if p.Manifest != "" {
			path = p.Manifest
		}
		fp, err := drill.Fingerprint(ctx, h, path)
		if err != nil {
			return nil, fmt.Errorf("on host %q: %w", p.Host, err)
		}
		if p.Manifest != "" {
			fi, err := h.Lstat(ctx, p.Path)
			if err != nil {
				return nil, fmt.Errorf("on host %q: %w", p.Host, err)
			}
			fp[p.Path] = []drill.Entry{{Mode: fi.Mode(), Size: fi.Size(), MTime: fi.ModTime().UnixNano()}}
		}
		if out[p.Host] == nil {
			out[p.Host] = drill.Fingerprints{}
		}
		maps.Copy(out[p.Host], fp)
	}
	return out, nil
}

func saveFingerprints(ctx context.Context, machine host.Host, dir string, fp map[string]drill.Fingerprints) error {
	b, err := json.Marshal(fp)
	if err != nil {
		return err
	}
	return machine.WriteFile(ctx, path.Join(dir, fingerprintsName), bytes.NewReader(b), 0o600)
}

// proveProduction fingerprints the sources again and lists in run what
// changed since before.
func proveProduction(ctx context.Context, sources []protected, reach map[string]host.Host, before map[string]drill.Fingerprints, run *record.DrillRun) hcl.Diagnostics {
	var diags hcl.Diagnostics
	after, err := fingerprints(ctx, sources, reach)
	if err != nil {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot fingerprint production again",
			Detail: fmt.Sprintf("%s; whether the drill changed it is not known.", err)})
	}
	run.Changes = nil
	for _, name := range slices.Sorted(maps.Keys(after)) {
		// Only the sources fingerprinted again count: a drill killed
		// before its last clone is proved on those it made.
		was := maps.Clone(before[name])
		maps.DeleteFunc(was, func(p string, _ []drill.Entry) bool { _, ok := after[name][p]; return !ok })
		for _, c := range drill.Changes(was, after[name]) {
			run.Changes = append(run.Changes, name+":"+c.String())
		}
	}
	if len(run.Changes) > 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Production changed during the drill",
			Detail: fmt.Sprintf("What the drill cloned changed between before and after the drill: %s. Something other than the drill's steps wrote it, or a step acted on production: find out before trusting the drill.",
				strings.Join(run.Changes, "; "))})
	}
	return diags
}

// proveSaved compares production with the fingerprints the drill saved in
// its folder before it cloned, on the sources of the clones it made.
func proveSaved(ctx context.Context, machine host.Host, dir string, hosts func(string) (host.Host, error), run *record.DrillRun) hcl.Diagnostics {
	b, err := machine.ReadFile(ctx, path.Join(dir, fingerprintsName))
	if errors.Is(err, fs.ErrNotExist) || len(run.Clones) == 0 {
		return nil // killed before it cloned anything
	}
	var before map[string]drill.Fingerprints
	if err == nil {
		err = json.Unmarshal(b, &before)
	}
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the drill's fingerprints",
			Detail: fmt.Sprintf("%s: %s; whether the drill changed production is not known.", path.Join(dir, fingerprintsName), err)}}
	}
	reach := map[string]host.Host{}
	var sources []protected
	for _, c := range run.Clones {
		if reach[c.Host] == nil {
			h, err := hosts(c.Host)
			if err != nil {
				return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot reach the drill's host", Detail: fmt.Sprintf("Host %q: %s.", c.Host, err)}}
			}
			defer h.Close()
			reach[c.Host] = h
		}
		sources = append(sources, protected{Host: c.Host, Path: c.Source, Manifest: c.Manifest})
	}
	run.Fingerprinted = len(sources)
	return proveProduction(ctx, sources, reach, before, run)
}
