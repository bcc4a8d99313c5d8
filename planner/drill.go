package planner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/drover-dr/drover/drill"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers/builtin/disk"
	"github.com/drover-dr/drover/providers/builtin/network/dnsupdate"
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
	if ls := dp.rb.Steps[s.Name]; ls != nil {
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

// isolatedTypes are the resource types a drill knows how to isolate.
var isolatedTypes = []string{"file", "ip_address", "dns_record", "share", "network_identity"}

// isolateResources makes the step's resources be created in the drill's
// own place, never where production has them: a file in the drill's
// folder of its host (Folder/isolated as the host's root), an address in
// the drill's network namespace standing in for its host's network, a
// DNS record on the drill's DNS server or in its zone, a share (and
// NetBIOS aliases) in the drill's Samba configuration; the last two as
// the step's override in the drill block names them.
func (dp *drillPlanner) isolateResources(s *plan.Step) {
	if !dp.isolate {
		dp.fail(s, "Step holds resources", "its resources would be created for real; set isolate = true in the runbook's drill block to create them in the drill's own place")
		return
	}
	ov, ok := dp.resourceOverride(s)
	if !ok {
		return
	}
	var where []string
	for _, c := range s.Changes {
		if c.Action != plan.Create {
			dp.fail(s, "Step resource exists", fmt.Sprintf("%s is in the state already (a failover in force holds it): a drill creates its own, isolated, and plans %s for it instead; fail back first", c.Addr, c.Action))
			return
		}
		attrs := c.After.AsValueMap()
		var w string
		var err error
		ov.renamed = false
		switch c.Addr.Resource.Type {
		case "file":
			w, err = dp.isolateFile(attrs)
		case "ip_address":
			w, err = dp.isolateAddresses(c.Addr.String(), attrs, []map[string]cty.Value{attrs})
		case "dns_record":
			w, err = ov.record(attrs)
		case "share":
			if w, err = ov.samba(attrs, "share "+attrs["name"].AsString()); err == nil {
				w += dp.serveClones(attrs["host"], []map[string]cty.Value{attrs})
			}
		case "network_identity":
			w, err = dp.isolateIdentity(c.Addr.String(), attrs, ov)
		case "host_name":
			err = errHostName
		default:
			err = fmt.Errorf("a drill isolates resources of type %s only, and this is a %s", strings.Join(isolatedTypes, ", "), c.Addr.Resource.Type)
		}
		if err != nil {
			dp.fail(s, "Step resource not isolated", fmt.Sprintf("%s: %s", c.Addr, err))
			return
		}
		// The provider described the change as production would see it:
		// a description naming what the drill does otherwise (a record's
		// name in the drill zone, an address not released from the old
		// holder) is dropped; the summary says what the drill does.
		if r, ok := attrs["release_from"]; ov.renamed || ok && !r.RawEquals(c.After.GetAttr("release_from")) {
			c.Description = ""
		}
		c.After = cty.ObjectVal(attrs)
		where = append(where, c.Addr.String()+" "+w)
	}
	for _, name := range ov.unused() {
		dp.fail(s, "Override not used", fmt.Sprintf("its override in the drill block sets %s, which none of its resources has: remove it", name))
	}
	s.Summary += ", isolated: " + strings.Join(where, "; ")
}

// errHostName refuses a system host name in a drill.
var errHostName = errors.New("a drill does not take a host name: the host name is the machine's own (no UTS namespace of the drill's holds it yet), " +
	"and changing it would make production answer to the drilled name; drill a runbook whose step leaves the host name out")

// localHost reads the host of a resource's attributes, which a drill can
// isolate only on the machine Drover runs on.
func localHost(attrs map[string]cty.Value) (host.Config, error) {
	cfg, err := host.ConfigFromValue(attrs["host"])
	if err == nil && cfg.EffectiveTransport() != "local" {
		err = fmt.Errorf("host %q is reached over %s: a drill isolates resources of local hosts only", cfg.Name, cfg.EffectiveTransport())
	}
	return cfg, err
}

// isolateFile roots a file's host in the drill's folder of it.
func (dp *drillPlanner) isolateFile(attrs map[string]cty.Value) (string, error) {
	cfg, err := localHost(attrs)
	if err != nil {
		return "", err
	}
	root := cfg.Root
	if root == "" {
		root = "/"
	}
	cfg.Root = path.Join(root, dp.d.Folder, "isolated")
	attrs["host"] = cfg.Value()
	if !slices.Contains(dp.d.Isolated, cfg.Name) {
		dp.d.Isolated = append(dp.d.Isolated, cfg.Name)
	}
	return fmt.Sprintf("in %s on %s", path.Join(dp.d.Folder, "isolated"), cfg.Name), nil
}

// isolateAddresses moves the host of attrs (an ip_address, or a
// network_identity whose address blocks are addrs) into the drill's
// network namespace for it, with the interfaces the addresses go on.
func (dp *drillPlanner) isolateAddresses(what string, attrs map[string]cty.Value, addrs []map[string]cty.Value) (string, error) {
	cfg, err := localHost(attrs)
	if err != nil {
		return "", err
	}
	ns := dp.namespace(cfg.Name)
	var ifaces []string
	for _, a := range addrs {
		ifname, want := a["interface"].AsString(), a["address"].AsString()
		p, err := netip.ParsePrefix(want)
		if err != nil {
			return "", fmt.Errorf("the address %q: %w", want, err)
		}
		i := slices.IndexFunc(ns.Interfaces, func(i plan.DrillInterface) bool { return i.Name == ifname })
		if i < 0 {
			ns.Interfaces = append(ns.Interfaces, plan.DrillInterface{Name: ifname})
			i = len(ns.Interfaces) - 1
		}
		// The subnets production's interface has for the address, for the
		// step's subnet check to pass in the drill as it did in the plan;
		// never the address itself, which the step takes.
		have, err := drill.InterfaceAddrs(dp.ctx, host.NewLocal(DrillMachine, ""), cfg.Netns, ifname)
		if err != nil {
			return "", err
		}
		for _, h := range have {
			if h.Masked().Contains(p.Addr()) && h.Addr() != p.Addr() && !slices.Contains(ns.Interfaces[i].Addresses, h.String()) {
				ns.Interfaces[i].Addresses = append(ns.Interfaces[i].Addresses, h.String())
			}
		}
		if !slices.Contains(ifaces, ifname) {
			ifaces = append(ifaces, ifname)
		}
	}
	if !slices.Contains(ns.For, what) {
		ns.For = append(ns.For, what)
	}
	cfg.Netns = ns.Name
	attrs["host"] = cfg.Value()
	return fmt.Sprintf("in the drill's network namespace %s (%s)", ns.Name, strings.Join(ifaces, ", ")), nil
}

// namespace is the drill's network namespace standing in for the network
// of host hostName, planned once: named after the drill and the host.
func (dp *drillPlanner) namespace(hostName string) *plan.DrillNamespace {
	for _, ns := range dp.d.Namespaces {
		if ns.Host == hostName {
			return ns
		}
	}
	ns := &plan.DrillNamespace{Host: hostName, Name: "drover-drill-" + path.Base(dp.d.Folder) + "-" + hostName}
	dp.d.Namespaces = append(dp.d.Namespaces, ns)
	return ns
}

// isolateIdentity isolates a network_identity's parts: its addresses in
// the drill's namespace, its records and shares as the override says. The
// old holder's addresses are not released: that host is production.
func (dp *drillPlanner) isolateIdentity(what string, attrs map[string]cty.Value, ov *resourceOverride) (string, error) {
	if n := attrs["host_name"]; !n.IsNull() {
		return "", errHostName
	}
	var where []string
	if addrs := blockMaps(attrs["address"]); len(addrs) > 0 {
		w, err := dp.isolateAddresses(what, attrs, addrs)
		if err != nil {
			return "", err
		}
		where = append(where, "its addresses "+w)
	}
	if records := blockMaps(attrs["dns_record"]); len(records) > 0 {
		var ws []string
		for _, r := range records {
			w, err := ov.record(r)
			if err != nil {
				return "", err
			}
			ws = append(ws, w)
		}
		attrs["dns_record"] = blockList(attrs["dns_record"], records)
		where = append(where, "its DNS records "+strings.Join(slices.Compact(ws), ", "))
	}
	if a := attrs["netbios_aliases"]; len(blockMaps(attrs["share"])) > 0 || !a.IsNull() && a.LengthInt() > 0 {
		w, err := ov.samba(attrs, "its shares and NetBIOS aliases")
		if err != nil {
			return "", err
		}
		shares := blockMaps(attrs["share"])
		w += dp.serveClones(attrs["host"], shares)
		if len(shares) > 0 {
			attrs["share"] = blockList(attrs["share"], shares)
		}
		where = append(where, "its shares and NetBIOS aliases "+w)
	}
	if r := attrs["release_from"]; !r.IsNull() {
		from, _ := host.ConfigFromValue(r)
		attrs["release_from"] = cty.NullVal(r.Type())
		where = append(where, fmt.Sprintf("nothing released on %s (production)", from.Name))
	}
	return strings.Join(where, "; "), nil
}

// serveClones points shares (their attributes) at the drill's clones of
// their folders, where it has one (a replica the runbook depends on), so
// that the drill's Samba server never serves production's data; it says
// which, for the step's summary.
func (dp *drillPlanner) serveClones(hostVal cty.Value, shares []map[string]cty.Value) string {
	cfg, err := host.ConfigFromValue(hostVal)
	if err != nil {
		return ""
	}
	var served []string
	for _, sh := range shares {
		if c := dp.index[cfg.Name+"\x00"+sh["path"].AsString()]; c != nil {
			served = append(served, fmt.Sprintf("%s from the clone %s", sh["name"].AsString(), c.Path))
			sh["path"] = cty.StringVal(c.Path)
		}
	}
	if len(served) == 0 {
		return ""
	}
	return ", serving " + strings.Join(served, ", ")
}

// blockMaps are the elements of a nested block list, as maps.
func blockMaps(l cty.Value) []map[string]cty.Value {
	if l.IsNull() || !l.IsKnown() {
		return nil
	}
	var out []map[string]cty.Value
	for _, b := range l.AsValueSlice() {
		out = append(out, b.AsValueMap())
	}
	return out
}

// blockList is the nested block list l with elements ms.
func blockList(l cty.Value, ms []map[string]cty.Value) cty.Value {
	vs := make([]cty.Value, len(ms))
	for i, m := range ms {
		vs[i] = cty.ObjectVal(m)
	}
	if l.Type().IsListType() {
		return cty.ListVal(vs)
	}
	return cty.TupleVal(vs)
}

// resourceOverride is what a step's override in the drill block gives its
// resources (lang.DrillResourceArgs): where its DNS records and Samba
// configuration are in the drill.
type resourceOverride struct {
	step     string
	server   cty.Value
	zone     cty.Value
	tsig     cty.Value
	smbConf  cty.Value
	used     map[string]bool
	declared []string
	// renamed says a record of the resource at hand moved to the drill
	// zone, which changes its name.
	renamed bool
}

// resourceOverride evaluates the resource arguments of s's override, if
// any; ok is false when that failed (the diagnostics say why).
func (dp *drillPlanner) resourceOverride(s *plan.Step) (*resourceOverride, bool) {
	ov := &resourceOverride{step: s.Name, server: cty.NullVal(cty.String), zone: cty.NullVal(cty.String), tsig: cty.NilVal,
		smbConf: cty.NullVal(cty.String), used: map[string]bool{}}
	var o *lang.DrillOverride
	if d := dp.rb.Drill; d != nil {
		if i := slices.IndexFunc(d.Overrides, func(o *lang.DrillOverride) bool { return o.Step == s.Name }); i >= 0 {
			o = d.Overrides[i]
		}
	}
	if o == nil {
		return ov, true
	}
	for _, name := range lang.DrillResourceArgs {
		a := o.Attrs[name]
		if a == nil {
			continue
		}
		ov.declared = append(ov.declared, name)
		var v cty.Value
		var diags hcl.Diagnostics
		if name == "tsig" {
			v, diags = evalKnown(dp.scope, a.Expr, cty.Object(map[string]cty.Type{"name": cty.String, "algorithm": cty.String, "secret": cty.String}))
		} else {
			v, diags = evalKnown(dp.scope, a.Expr, cty.String)
		}
		if diags.HasErrors() {
			dp.diags = append(dp.diags, diags...)
			return nil, false
		}
		switch name {
		case "server":
			ov.server = v
		case "zone":
			ov.zone = v
		case "tsig":
			ov.tsig = v
		case "smb_conf":
			ov.smbConf = v
		}
	}
	return ov, true
}

// unused lists the arguments the override sets that no resource took.
func (ov *resourceOverride) unused() []string {
	var out []string
	for _, name := range ov.declared {
		if !ov.used[name] {
			out = append(out, name)
		}
	}
	return out
}

// record points a DNS record's attributes (a dns_record, or a
// network_identity's dns_record block) at the drill's server or zone.
// Without either, or with production's, it is refused: a drill never
// updates the zone production answers from.
func (ov *resourceOverride) record(attrs map[string]cty.Value) (string, error) {
	for _, name := range []string{"server", "zone", "tsig"} {
		ov.used[name] = true
	}
	server, zone := attrs["server"], attrs["zone"]
	if !ov.server.IsNull() {
		server = ov.server
	}
	if !ov.zone.IsNull() {
		zone = ov.zone
	}
	if server.Equals(attrs["server"]).True() && zone.Equals(attrs["zone"]).True() {
		return "", fmt.Errorf("a drill never updates the production zone %s on %s: set server (a drill's own DNS server) or zone (a drill zone) in override %q of the drill block",
			attrs["zone"].AsString(), attrs["server"].AsString(), "step."+ov.step)
	}
	name := attrs["name"].AsString()
	if strings.HasSuffix(name, ".") && !zone.Equals(attrs["zone"]).True() {
		return "", fmt.Errorf("the record's name %s is absolute, outside the drill zone %s: name it relative to its zone", name, zone.AsString())
	}
	ov.renamed = ov.renamed || !zone.RawEquals(attrs["zone"])
	attrs["server"], attrs["zone"] = server, zone
	if ov.tsig != cty.NilVal {
		attrs["tsig"] = ov.tsig
	}
	if _, ok := attrs["fqdn"]; ok {
		// A dns_record's computed names follow its zone.
		s := dnsupdate.RRset{Zone: zone.AsString(), Name: name, Type: attrs["type"].AsString()}
		fqdn := strings.TrimSuffix(s.FQDN(), ".")
		attrs["fqdn"], attrs["id"] = cty.StringVal(fqdn), cty.StringVal(fqdn+" "+s.Type)
	}
	return fmt.Sprintf("on the drill's DNS server %s in zone %s", server.AsString(), zone.AsString()), nil
}

// samba points a share or identity's Samba configuration at the drill's
// own, which the override must name: a drill never changes the Samba
// server production's clients use.
func (ov *resourceOverride) samba(attrs map[string]cty.Value, what string) (string, error) {
	ov.used["smb_conf"] = true
	if ov.smbConf.IsNull() || ov.smbConf.Equals(attrs["smb_conf"]).True() {
		return "", fmt.Errorf("%s would change production's Samba server (%s): a drill needs a Samba server of its own; set smb_conf in override %q of the drill block to its configuration",
			what, attrs["smb_conf"].AsString(), "step."+ov.step)
	}
	attrs["smb_conf"] = ov.smbConf
	return "in the drill's Samba configuration " + ov.smbConf.AsString(), nil
}
