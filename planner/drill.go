package planner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/drover-dr/drover/drill"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers/builtin/disk"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// DrillDir is the folder on a host under which each drill keeps, in a
// folder of its own, its clones and what its steps write.
const DrillDir = "/var/lib/drover/drills"

// DrillMachine names the machine Drover runs on, where a drill's cleanup
// hook without a host runs and its inventory lies: no host block can be
// called so.
const DrillMachine = "(this machine)"

// Drill environment variables of run steps: scripts act on the copies too.
const (
	// DrillEnv is "1" in a drill.
	DrillEnv = "DROVER_DRILL"
	// DrillClonesEnv lists the clones on the step's host, a line each:
	// SOURCE=CLONE.
	DrillClonesEnv = "DROVER_DRILL_CLONES"
	// DrillCloneEnvPrefix names one clone: DROVER_DRILL_CLONE_ plus the
	// resource address (replication_set.repset: REPLICATION_SET_REPSET)
	// or STEP_ and the name of the step that acts on it.
	DrillCloneEnvPrefix = "DROVER_DRILL_CLONE_"
	// DrillNetnsEnv names the drill's network namespace standing in for
	// the step's host, where its network resources are (isolate = true).
	DrillNetnsEnv = "DROVER_DRILL_NETNS"
)

// drillPlanner turns a runbook's plan into its drill's: every protected
// object a step would act on is cloned (as drill.Plan says it would be),
// and the step acts on the clone instead.
type drillPlanner struct {
	r     *run
	ctx   context.Context
	scope *lang.Scope
	d     *plan.Drill
	index map[string]*plan.DrillClone // host and source → clone
	// env names the clones for run steps, by variable name.
	env   map[string]*plan.DrillClone
	diags hcl.Diagnostics
	rb    *lang.Runbook
	// reboot says the drill block asks for the reboots to be done.
	reboot bool
	// isolate says the drill block asks for step resources in the
	// drill's own place.
	isolate bool
}

// planDrill makes rb's steps act on clones and fills rb.Drill. Production
// objects are only read here (drill.Plan stats them).
func (r *run) planDrill(ctx context.Context, scope *lang.Scope, src *lang.Runbook, rb *plan.Runbook) hcl.Diagnostics {
	var id [6]byte
	rand.Read(id[:])
	dp := &drillPlanner{r: r, ctx: ctx, scope: scope, rb: src, index: map[string]*plan.DrillClone{}, env: map[string]*plan.DrillClone{},
		d: &plan.Drill{Folder: path.Join(DrillDir, hex.EncodeToString(id[:]))}}
	rb.Drill = dp.d
	if d := src.Drill; d != nil {
		if d.Reboot != nil {
			v, diags := evalKnown(scope, d.Reboot, cty.Bool)
			if diags.HasErrors() {
				return diags
			}
			dp.reboot = v.True()
		}
		if d.Isolate != nil {
			v, diags := evalKnown(scope, d.Isolate, cty.Bool)
			if diags.HasErrors() {
				return diags
			}
			dp.isolate = v.True()
		}
		for i, c := range d.Cleanup {
			hook, diags := planCleanup(scope, i+1, c)
			if diags.HasErrors() {
				return diags
			}
			dp.d.Cleanup = append(dp.d.Cleanup, hook)
		}
	}
	// The data the runbook depends on (a replica, a drive copy), which
	// its run steps may act on.
	for _, inst := range r.protected(src, rb) {
		attrs, _ := inst.Attrs.UnmarkDeep()
		switch inst.Addr.Resource.Type {
		case "replication_set":
			t := attrs.GetAttr("target")
			if c := dp.clone(t.GetAttr("host"), t.GetAttr("path").AsString(), false, inst.Addr.String()); c != nil {
				dp.env[envName(inst.Addr.String())] = c
			}
		case "drive_copy":
			if c := dp.clone(attrs.GetAttr("host"), attrs.GetAttr("target").AsString(), true, inst.Addr.String()); c != nil {
				dp.env[envName(inst.Addr.String())] = c
				if m := attrs.GetAttr("manifest"); m.IsKnown() && !m.IsNull() {
					c.Manifest = m.AsString()
				}
			}
		}
	}
	for _, s := range rb.Steps {
		if s.Skip != "" {
			continue
		}
		dp.step(s)
	}
	for _, s := range rb.Steps {
		if s.Action == plan.StepRun && s.Skip == "" && !s.Deferred {
			dp.runEnv(s)
		}
	}
	return dp.diags
}

// step points s at the clones of what it would write.
func (dp *drillPlanner) step(s *plan.Step) {
	if s.Deferred {
		dp.fail(s, "Step planned as it runs", "its arguments refer to other steps' outcomes, which a drill does not plan yet; drill a runbook without step.NAME references")
		return
	}
	args := map[string]cty.Value{}
	if s.Invoke.Args != cty.NilVal && !s.Invoke.Args.IsNull() {
		args = s.Invoke.Args.AsValueMap()
	}
	switch s.Action {
	case plan.StepResources:
		dp.isolateResources(s)
		return
	case plan.StepImport:
		hive := args["hive"].AsString()
		c := dp.clone(args["host"], hive, false, "step."+s.Name)
		if c == nil {
			return
		}
		dp.env[envName("step."+s.Name)] = c
		undo := path.Join(dp.d.Folder, "undo", s.Name+".undo.reg")
		args["hive"], args["undo"] = cty.StringVal(c.Path), cty.StringVal(undo)
		s.Summary = fmt.Sprintf("import %s into the drill's clone %s of the hive %s on %s, keeping the undo file %s",
			args["file"].AsString(), c.Path, hive, s.Host, undo)
		s.Release, s.ReleaseSummary = nil, ""
	case plan.StepSetDefault, plan.StepSetNext:
		loader, file := args["loader"].AsString(), ""
		if f := args["file"]; f != cty.NilVal && !f.IsNull() {
			file = f.AsString()
		}
		menu := disk.MenuFile(loader, file)
		c := dp.clone(args["host"], menu, false, "step."+s.Name)
		if c == nil {
			return
		}
		dp.env[envName("step."+s.Name)] = c
		args["file"] = cty.StringVal(c.Path)
		what, reboot, rebooting := strings.Cut(s.Summary, ", then reboot")
		s.Summary = fmt.Sprintf("%s, in the drill's clone %s of the boot menu %s", what, c.Path, menu)
		switch {
		case !rebooting:
		case dp.reboot:
			s.Summary += ", then reboot" + reboot
		default:
			s.Reboot = nil
			s.Summary += "; the reboot is recorded, not done"
			dp.d.Reboots = append(dp.d.Reboots, s.Name)
		}
	default:
		return
	}
	s.Invoke.Args = cty.ObjectVal(args)
}

// runEnv gives a run step DROVER_DRILL=1 and the clones of its host.
func (dp *drillPlanner) runEnv(s *plan.Step) {
	args := s.Invoke.Args.AsValueMap()
	env := map[string]cty.Value{}
	if e := args["env"]; !e.IsNull() {
		env = e.AsValueMap()
	}
	env[DrillEnv] = cty.StringVal("1")
	var lines []string
	for _, c := range dp.d.Clones {
		if c.Host == s.Host {
			lines = append(lines, c.Source+"="+c.Path)
		}
	}
	env[DrillClonesEnv] = cty.StringVal(strings.Join(lines, "\n"))
	names := []string{DrillEnv + "=1", DrillClonesEnv}
	for _, ns := range dp.d.Namespaces {
		if ns.Host == s.Host {
			env[DrillNetnsEnv] = cty.StringVal(ns.Name)
			names = append(names, DrillNetnsEnv)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(dp.env)) {
		if c := dp.env[name]; c.Host == s.Host {
			env[name] = cty.StringVal(c.Path)
			names = append(names, name)
		}
	}
	args["env"] = cty.MapVal(env)
	s.Summary += ", with " + strings.Join(names, ", ")
	s.Invoke.Args = cty.ObjectVal(args)
}

// clone plans the clone of src on the host hostVal names, once per host
// and source, for the step or resource named by what.
func (dp *drillPlanner) clone(hostVal cty.Value, src string, isDisk bool, what string) *plan.DrillClone {
	cfg, err := host.ConfigFromValue(hostVal)
	if err != nil {
		dp.diags = append(dp.diags, dp.errorf("The drill of %s cannot reach its host: %s.", what, err))
		return nil
	}
	key := cfg.Name + "\x00" + src
	if c := dp.index[key]; c != nil {
		if !slices.Contains(c.For, what) {
			c.For = append(c.For, what)
		}
		return c
	}
	h, err := cfg.Open()
	if err == nil {
		defer h.Close()
		var pc drill.Clone
		pc, err = drill.Plan(dp.ctx, h, src, drill.CloneOptions{Disk: isDisk})
		if err == nil {
			c := &plan.DrillClone{Host: cfg.Name, Source: src, Method: string(pc.Method), Why: pc.Why, Warning: pc.Warning, Disk: isDisk, For: []string{what}}
			// The clone mirrors the source's place under the drill's
			// folder, as Inventory.Clone names it in the folder given.
			c.Path = path.Join(dp.d.Folder, "clones", src)
			if pc.Method == drill.Qcow2Overlay {
				c.Path += ".qcow2"
			}
			dp.index[key] = c
			dp.d.Clones = append(dp.d.Clones, c)
			return c
		}
	}
	dp.diags = append(dp.diags, dp.errorf("The drill cannot clone %s on host %q for %s: %s. Apply the configuration first (drover apply), or fix the path.", src, cfg.Name, what, err))
	return nil
}

func (dp *drillPlanner) fail(s *plan.Step, summary, why string) {
	d := dp.errorf("A drill of runbook %q cannot run step %q: %s.", dp.rb.Name, s.Name, why)
	d.Summary = summary
	if ls := dp.rb.Steps[stepName(s.Name)]; ls != nil {
		d.Subject = ls.DeclRange.Ptr()
	}
	dp.diags = append(dp.diags, d)
}

func (dp *drillPlanner) errorf(format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot plan the drill", Detail: fmt.Sprintf(format, args...), Subject: dp.rb.DeclRange.Ptr()}
}

// envName is the variable naming the clone made for what (a resource
// address, step.NAME).
func envName(what string) string {
	return DrillCloneEnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "[", "_", "]", "", "\"", "", "-", "_").Replace(what))
}

// planCleanup plans the drill's cleanup hook number n: a run on its host,
// or on the machine Drover runs on.
func planCleanup(scope *lang.Scope, n int, c *lang.DrillCleanup) (*plan.Step, hcl.Diagnostics) {
	hostVal := host.Config{Name: DrillMachine}.Value()
	where := "this machine"
	if c.Host != nil {
		v, diags := scope.EvalExpr(c.Host, cty.DynamicPseudoType)
		if diags.HasErrors() {
			return nil, diags
		}
		hostVal, _ = v.UnmarkDeep()
		cfg, err := host.ConfigFromValue(hostVal)
		if err != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid host argument", Detail: err.Error(), Subject: c.Host.Range().Ptr()}}
		}
		where = cfg.Name
	}
	argv, diags := evalKnown(scope, c.Run, cty.List(cty.String))
	if diags.HasErrors() {
		return nil, diags
	}
	env, dir := cty.MapVal(map[string]cty.Value{DrillEnv: cty.StringVal("1")}), cty.NullVal(cty.String)
	if c.Env != nil {
		v, d := evalKnown(scope, c.Env, cty.Map(cty.String))
		if d.HasErrors() {
			return nil, d
		}
		m := map[string]cty.Value{DrillEnv: cty.StringVal("1")}
		if !v.IsNull() {
			maps.Copy(m, v.AsValueMap())
		}
		env = cty.MapVal(m)
	}
	if c.Dir != nil {
		if dir, diags = evalKnown(scope, c.Dir, cty.String); diags.HasErrors() {
			return nil, diags
		}
	}
	s := &plan.Step{Name: fmt.Sprintf("cleanup-%d", n), Action: plan.StepRun, Host: where, OnFailure: lang.OnFailureChoices[0]}
	if s.Timeout, diags = evalDuration(scope, c.Timeout); diags.HasErrors() {
		return nil, diags
	}
	var words []string
	for _, a := range argv.AsValueSlice() {
		words = append(words, shellWord(a.AsString()))
	}
	s.Summary = "run " + strings.Join(words, " ") + " on " + where + ", after the teardown"
	s.Invoke = plan.Invoke{Provider: coreProvider, Action: "run", Args: cty.ObjectVal(map[string]cty.Value{
		"host": hostVal, "argv": argv, "env": env, "dir": dir})}
	return s, nil
}

// drillAge warns when the runbook's drill block sets max_age and its last
// successful drill (last, zero for none) is older, or there is none.
func drillAge(scope *lang.Scope, rb *lang.Runbook, last time.Time) hcl.Diagnostics {
	if rb.Drill == nil || rb.Drill.MaxAge == nil {
		return nil
	}
	v, diags := evalKnown(scope, rb.Drill.MaxAge, cty.String)
	if diags.HasErrors() {
		return diags
	}
	limit, err := lang.ParseAge(v.AsString())
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid max_age argument", Detail: err.Error(), Subject: rb.Drill.MaxAge.Range().Ptr()}}
	}
	var what string
	switch age := time.Since(last); {
	case last.IsZero():
		what = "has never been drilled successfully"
	case age > limit:
		what = fmt.Sprintf("was last drilled successfully %s ago, at %s", plan.RoundDuration(age), last.UTC().Format(time.RFC3339))
	default:
		return nil
	}
	return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Drill overdue",
		Detail:  fmt.Sprintf("Runbook %q %s, and its drill block has max_age = %q. Rehearse it: drover drill %s.", rb.Name, what, v.AsString(), rb.Name),
		Subject: rb.Drill.MaxAge.Range().Ptr()}}
}
