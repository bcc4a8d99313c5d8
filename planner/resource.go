package planner

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/lang/funcs"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// expansion is the set of instances a resource block declares.
type expansion struct {
	kind expansionKind
	keys []addrs.Key
	each map[string]cty.Value
}

// instance is what an instance's expressions see of its key.
func (e expansion) instance(key addrs.Key) lang.Instance {
	inst := lang.Instance{Key: key}
	if e.kind == expandForEach {
		inst.EachValue = e.each[key.Str]
	}
	return inst
}

func (r *run) expand(rc *lang.Resource) (expansion, hcl.Diagnostics) {
	return expand(r.scope(lang.Instance{}), rc.Count, rc.ForEach)
}

// expand evaluates the count or for_each (at most one set) of a resource
// block or a runbook step in scope.
func expand(scope *lang.Scope, count, forEach hcl.Expression) (expansion, hcl.Diagnostics) {
	switch {
	case count != nil:
		n, diags := scope.EvalCount(count)
		if diags.HasErrors() {
			return expansion{}, diags
		}
		keys := make([]addrs.Key, n)
		for i := range keys {
			keys[i] = addrs.IntK(i)
		}
		return expansion{kind: expandCount, keys: keys}, diags
	case forEach != nil:
		m, diags := scope.EvalForEach(forEach)
		if diags.HasErrors() {
			return expansion{}, diags
		}
		keys := make([]addrs.Key, 0, len(m))
		for k := range m {
			keys = append(keys, addrs.StrK(k))
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].Str < keys[j].Str })
		return expansion{kind: expandForEach, keys: keys, each: m}, diags
	}
	return expansion{keys: []addrs.Key{{}}}, nil
}

// planResource plans every instance of one resource block and publishes the
// resource's planned value for the resources that reference it.
func (r *run) planResource(ctx context.Context, addr addrs.Resource) hcl.Diagnostics {
	rc := r.cfg.Resources[addr]
	exp, diags := r.expand(rc)
	if diags.HasErrors() {
		return diags
	}
	if d := append(r.movedStillDeclared(addr, exp), r.importsDeclared(addr, exp)...); d.HasErrors() {
		return append(diags, d...)
	}
	planned, kept := r.narrow(addr, exp)
	ivs, d := r.planInstances(ctx, rc, addr, planned)
	diags = append(diags, d...)
	r.vals.setResource(addr, resourceValue(exp.kind, append(ivs, kept...)))
	r.planGoneInstances(ctx, addr, exp)
	return diags
}

// narrow splits exp when --target names only some of its instances: those
// are planned; the others keep their values from the state, or, lacking
// one, are unknown to references, and are not created.
func (r *run) narrow(addr addrs.Resource, exp expansion) (planned expansion, kept []instanceValue) {
	only := r.targetKeys[addr]
	if only == nil {
		return exp, nil
	}
	prior := map[addrs.Key]*state.Instance{}
	for _, inst := range r.byResource[addr] {
		prior[inst.Addr.Key] = inst
	}
	planned = exp
	planned.keys = nil
	for _, k := range exp.keys {
		switch inst := prior[k]; {
		case only[k]:
			planned.keys = append(planned.keys, k)
		case inst != nil:
			kept = append(kept, instanceValue{key: k, val: inst.Attrs, sensitive: inst.SensitivePaths})
		default:
			kept = append(kept, instanceValue{key: k, val: cty.UnknownVal(r.schemas[addr].implied)})
		}
	}
	return planned, kept
}

// planInstances plans the instances of an expansion in parallel, within
// the run's limit. A single instance is planned on the calling goroutine
// (the walk's); more are shared out to a few workers, each of which
// plans many, so that a goroutine's stack grows once, not once an
// instance.
func (r *run) planInstances(ctx context.Context, rc *lang.Resource, addr addrs.Resource, exp expansion) ([]instanceValue, hcl.Diagnostics) {
	if len(exp.keys) == 1 && ctx.Err() == nil {
		r.sem <- struct{}{}
		defer func() { <-r.sem }()
		iv, diags := r.planInstance(ctx, rc, addr.Instance(exp.keys[0]), exp.instance(exp.keys[0]))
		return []instanceValue{iv}, diags
	}
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		ivs     = make([]instanceValue, len(exp.keys))
		planned = make([]bool, len(exp.keys))
		diags   = make([]hcl.Diagnostics, len(exp.keys))
	)
	for range min(len(exp.keys), cap(r.sem)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(exp.keys) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				key := exp.keys[i]
				r.sem <- struct{}{}
				ivs[i], diags[i] = r.planInstance(ctx, rc, addr.Instance(key), exp.instance(key))
				<-r.sem
				planned[i] = true
			}
		})
	}
	wg.Wait()
	var all hcl.Diagnostics
	done := ivs[:0]
	for i, iv := range ivs {
		if planned[i] {
			done = append(done, iv)
			all = append(all, diags[i]...)
		}
	}
	return done, all
}

// planInstance evaluates and plans one instance. It returns the value that
// references to the instance see (planned, with unknowns).
func (r *run) planInstance(ctx context.Context, rc *lang.Resource, addr addrs.Instance, inst lang.Instance) (instanceValue, hcl.Diagnostics) {
	rs := r.schemas[addr.Resource]
	iv := instanceValue{key: addr.Key, val: cty.UnknownVal(rs.implied)}
	cfgVal, diags := r.scope(inst).EvalBody(rc.Config, rs.spec)
	if diags.HasErrors() {
		return iv, diags
	}
	cfgVal, pvm := cfgVal.UnmarkDeepWithPaths()
	sensitive := append(pathsOf(pvm), rs.sensitive...)
	if len(pvm) > 0 {
		// A provider may derive computed values from sensitive inputs
		// (value.output is the input); none of them may be shown.
		sensitive = append(sensitive, computedPaths(rs.schema.Block)...)
	}
	iv.sensitive = sensitive
	secrets := funcs.SensitiveTexts(cfgVal, sensitive)

	if addr.Mode == addrs.Data {
		return r.readData(ctx, rc, rs, addr, cfgVal, iv)
	}

	priorInst := r.refreshed.Instance(addr)
	prior := cty.NullVal(rs.implied)
	var priorPrivate []byte
	if priorInst != nil {
		prior, priorPrivate = priorInst.Attrs, priorInst.Private
		cfgVal = ignoreChanges(cfgVal, prior, rc.Lifecycle)
		secrets = append(secrets, funcs.SensitiveTexts(prior, priorInst.SensitivePaths)...)
	}
	resp := r.providerPlan(ctx, rs, addr, prior, cfgVal, priorPrivate)
	diags = append(diags, providerDiags(resp.Diagnostics, rs.provider, addr, rc.Config, rc.DeclRange, secrets)...)
	if resp.Diagnostics.HasErrors() {
		return iv, diags
	}
	change := &plan.Change{
		Addr:                addr,
		Provider:            rs.provider,
		Before:              prior,
		After:               resp.Planned,
		SensitivePaths:      sensitive,
		Private:             resp.PlannedPrivate,
		Description:         resp.Description,
		Dependencies:        r.graph.resourceDeps[addr.Resource],
		CreateBeforeDestroy: rc.Lifecycle.CreateBeforeDestroy,
		ConfigUnknown:       !cfgVal.IsWhollyKnown(),
	}
	switch {
	case priorInst == nil:
		change.Action = plan.Create
		change.Before = cty.NullVal(prior.Type())
	case priorInst.Status == state.Tainted:
		change.Reason = plan.ReasonTainted
		d := r.planReplace(ctx, rs, change, cfgVal, secrets)
		diags = append(diags, d...)
	case r.replace[addr]:
		change.Reason = plan.ReasonRequested
		diags = append(diags, r.planReplace(ctx, rs, change, cfgVal, secrets)...)
	case r.triggered(rc):
		change.Reason = plan.ReasonTriggered
		diags = append(diags, r.planReplace(ctx, rs, change, cfgVal, secrets)...)
	case len(changedPaths(prior, resp.Planned, resp.RequiresReplace)) > 0:
		change.RequiresReplace = changedPaths(prior, resp.Planned, resp.RequiresReplace)
		diags = append(diags, r.planReplace(ctx, rs, change, cfgVal, secrets)...)
	case resp.Planned.RawEquals(prior):
		change.Action = plan.NoOp
	default:
		change.Action = plan.Update
	}
	if change.Action.IsReplace() && rc.Lifecycle.PreventDestroy {
		diags = append(diags, preventDestroy(addr, rc.DeclRange))
	}
	if diags.HasErrors() {
		return iv, diags
	}
	r.addChange(change)
	iv.val = change.After
	return iv, diags
}

func (r *run) providerPlan(ctx context.Context, rs resourceSchema, addr addrs.Instance, prior, config cty.Value, priorPrivate []byte) providers.PlanResponse {
	return rs.client.Plan(ctx, planRequest(rs, addr, prior, config, priorPrivate))
}

func planRequest(rs resourceSchema, addr addrs.Instance, prior, config cty.Value, priorPrivate []byte) providers.PlanRequest {
	return providers.PlanRequest{
		TypeName:     addr.Type,
		Prior:        prior,
		Config:       config,
		PriorPrivate: priorPrivate,
	}
}

// planReplace re-plans a change as a create from nothing, keeping its
// Before, and picks the replace order from the lifecycle; secrets are as
// for providerDiags.
func (r *run) planReplace(ctx context.Context, rs resourceSchema, c *plan.Change, config cty.Value, secrets []string) hcl.Diagnostics {
	null := cty.NullVal(c.Before.Type())
	resp := r.providerPlan(ctx, rs, c.Addr, null, config, nil)
	rc := r.cfg.Resources[c.Addr.Resource]
	diags := providerDiags(resp.Diagnostics, rs.provider, c.Addr, rc.Config, rc.DeclRange, secrets)
	c.After = resp.Planned
	c.Private = resp.PlannedPrivate
	if resp.Description != "" {
		c.Description = resp.Description
	}
	c.Action = plan.DeleteThenCreate
	if c.CreateBeforeDestroy {
		c.Action = plan.CreateThenDelete
	}
	return diags
}

// readData reads a data source at plan time when its configuration is
// known and nothing it depends on changes, and defers the read to apply
// otherwise.
func (r *run) readData(ctx context.Context, rc *lang.Resource, rs resourceSchema, addr addrs.Instance, config cty.Value, iv instanceValue) (instanceValue, hcl.Diagnostics) {
	reason := plan.ReasonNone
	switch {
	case !config.IsWhollyKnown():
		reason = plan.ReasonDeferredConfig
	case r.dependsOnChanges(addr.Resource):
		// What it reads may be what those changes write.
		reason = plan.ReasonDeferredDeps
	}
	if reason != plan.ReasonNone {
		// Read during apply: what the configuration sets is known now,
		// what the provider computes is not.
		iv.val = rs.schema.Block.ProposedNew(cty.NullVal(rs.implied), config)
		r.addChange(&plan.Change{Addr: addr, Provider: rs.provider, Action: plan.Read, Reason: reason,
			Before: cty.NullVal(iv.val.Type()), After: iv.val, SensitivePaths: iv.sensitive,
			Dependencies: r.graph.resourceDeps[addr.Resource], ConfigUnknown: true})
		return iv, nil
	}
	rctx, cancel := r.readContext(ctx, addr.Resource)
	resp := rs.client.ReadData(rctx, providers.ReadDataRequest{TypeName: addr.Type, Config: config})
	timedOut := rctx.Err() == context.DeadlineExceeded
	cancel()
	diags := providerDiags(resp.Diagnostics, rs.provider, addr, rc.Config, rc.DeclRange, funcs.SensitiveTexts(config, iv.sensitive))
	if diags.HasErrors() {
		if timedOut {
			diags = append(diags, timeoutDiag(addr, "reading", "read", rc.Timeouts.Read, rc.DeclRange))
		}
		return iv, diags
	}
	iv.val = resp.State
	r.mu.Lock()
	r.refreshed.Set(&state.Instance{Addr: addr, Provider: rs.provider, SchemaVersion: rs.schema.Version,
		Status: state.Ready, Attrs: resp.State, SensitivePaths: iv.sensitive})
	r.mu.Unlock()
	return iv, diags
}

// triggered reports whether a resource rc's lifecycle.replace_triggered_by
// names has a planned change; the walk planned it already, as rc depends
// on it.
func (r *run) triggered(rc *lang.Resource) bool {
	if len(rc.Lifecycle.ReplaceTriggeredBy) == 0 {
		return false
	}
	refs, _ := lang.TraversalRefs(rc.Lifecycle.ReplaceTriggeredBy)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ref := range refs {
		if r.changed[ref.Resource] {
			return true
		}
	}
	return false
}

// planGoneInstances plans deletes for instances of addr in state that the
// expansion no longer declares (count lowered, for_each key removed).
func (r *run) planGoneInstances(ctx context.Context, addr addrs.Resource, exp expansion) {
	want := make(map[addrs.Key]bool, len(exp.keys))
	for _, k := range exp.keys {
		want[k] = true
	}
	for _, inst := range r.byResource[addr] {
		if want[inst.Addr.Key] || !r.targetsInstance(inst.Addr) {
			continue
		}
		reason := plan.ReasonNoConfig
		switch inst.Addr.Key.Kind {
		case addrs.IntKey:
			reason = plan.ReasonCountIndex
		case addrs.StrKey:
			reason = plan.ReasonEachKey
		}
		r.planDelete(ctx, inst, reason)
	}
}

func (r *run) planDelete(ctx context.Context, inst *state.Instance, reason plan.Reason) {
	if inst.Addr.Mode == addrs.Data {
		return
	}
	if rc, ok := r.cfg.Resources[inst.Addr.Resource]; ok && rc.Lifecycle.PreventDestroy {
		r.addDiags(hcl.Diagnostics{preventDestroy(inst.Addr, rc.DeclRange)})
		return
	}
	c, diags := r.deleteChange(ctx, inst, reason)
	r.addDiags(diags)
	r.addChange(c)
}

// deleteChange is the planned delete of inst, with what the provider says
// the delete does on the host (the files it removes, or leaves, the parts
// it gives back): a plan with a null configuration.
func (r *run) deleteChange(ctx context.Context, inst *state.Instance, reason plan.Reason) (*plan.Change, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var description string
	rng := r.resourceRange(inst.Addr.Resource)
	if rs, d := typeSchema(ctx, r.opts.Providers, inst.Addr.Mode, inst.Addr.Type, inst.Provider, rng); !d.HasErrors() {
		resp := rs.client.Plan(ctx, providers.PlanRequest{TypeName: inst.Addr.Type, Prior: inst.Attrs,
			Config: cty.NullVal(inst.Attrs.Type()), PriorPrivate: inst.Private})
		diags = providerDiags(resp.Diagnostics, rs.provider, inst.Addr, nil, rng, funcs.SensitiveTexts(inst.Attrs, inst.SensitivePaths))
		description = resp.Description
	}
	return &plan.Change{
		Addr:           inst.Addr,
		Provider:       inst.Provider,
		Action:         plan.Delete,
		Reason:         reason,
		Before:         inst.Attrs,
		After:          cty.NullVal(inst.Attrs.Type()),
		SensitivePaths: inst.SensitivePaths,
		Dependencies:   inst.Dependencies,
		Description:    description,
	}, diags
}

// planOrphans plans deletes for state instances whose resource block is gone.
func (r *run) planOrphans(ctx context.Context) hcl.Diagnostics {
	// What the deletes add to r.diags (the providers' descriptions) is
	// returned: the walk's diagnostics were taken before.
	r.mu.Lock()
	n := len(r.diags)
	r.mu.Unlock()
	for _, addr := range r.refreshed.SortedAddrs() {
		if _, ok := r.cfg.Resources[addr.Resource]; ok || heldByRunbook(r.cfg, addr.Resource) {
			continue
		}
		if !r.targetsInstance(addr) || r.forget(addr) {
			continue
		}
		r.planDelete(ctx, r.refreshed.Instances[addr], plan.ReasonNoConfig)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.diags[n:])
}

// planDestroy plans the deletion of every managed object in state.
func (r *run) planDestroy(ctx context.Context) hcl.Diagnostics {
	for _, addr := range r.refreshed.SortedAddrs() {
		if !r.targetsInstance(addr) || r.forget(addr) {
			continue
		}
		r.planDelete(ctx, r.refreshed.Instances[addr], plan.ReasonNone)
	}
	return r.diags
}

func preventDestroy(addr addrs.Instance, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Instance cannot be destroyed",
		Detail: fmt.Sprintf("%s has lifecycle.prevent_destroy set, but the plan would destroy it. "+
			"Remove prevent_destroy first if you mean to destroy it, or change the plan (e.g. --target) so that it does not.", addr),
		Subject: rng.Ptr(),
	}
}

// changedPaths keeps the paths of candidates whose value differs between
// before and after.
func changedPaths(before, after cty.Value, candidates []cty.Path) []cty.Path {
	var out []cty.Path
	for _, p := range candidates {
		b, errB := p.Apply(before)
		a, errA := p.Apply(after)
		if (errB != nil) != (errA != nil) || (errB == nil && !b.RawEquals(a)) {
			out = append(out, p)
		}
	}
	return out
}

func pathsOf(pvm []cty.PathValueMarks) []cty.Path {
	out := make([]cty.Path, len(pvm))
	for i, m := range pvm {
		out[i] = m.Path
	}
	return out
}

// ignoreChanges replaces the ignored attributes of config with the prior
// values, so that changes to them do not show in the plan.
func ignoreChanges(config, prior cty.Value, lc lang.Lifecycle) cty.Value {
	if prior.IsNull() || (len(lc.IgnoreChanges) == 0 && !lc.IgnoreAllChanges) {
		return config
	}
	var paths []cty.Path
	if lc.IgnoreAllChanges {
		for name := range config.Type().AttributeTypes() {
			paths = append(paths, cty.GetAttrPath(name))
		}
	}
	for _, t := range lc.IgnoreChanges {
		if p, ok := traversalPath(t); ok {
			paths = append(paths, p)
		}
	}
	out, _ := cty.Transform(config, func(p cty.Path, v cty.Value) (cty.Value, error) {
		for _, ig := range paths {
			if p.Equals(ig) {
				if pv, err := ig.Apply(prior); err == nil && pv.Type().Equals(v.Type()) {
					return pv, nil
				}
			}
		}
		return v, nil
	})
	return out
}

func traversalPath(t hcl.Traversal) (cty.Path, bool) {
	var p cty.Path
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			p = p.GetAttr(s.Name)
		case hcl.TraverseAttr:
			p = p.GetAttr(s.Name)
		case hcl.TraverseIndex:
			p = p.Index(s.Key)
		default:
			return nil, false
		}
	}
	return p, len(p) > 0
}

func computedPaths(b *schema.Block) []cty.Path {
	var out []cty.Path
	for name, a := range b.Attributes {
		if a.Computed && !a.Optional {
			out = append(out, cty.GetAttrPath(name))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i][0].(cty.GetAttrStep).Name < out[j][0].(cty.GetAttrStep).Name
	})
	return out
}

// dependsOnChanges reports whether a resource addr depends on has a
// planned change; dependencies are planned first.
func (r *run) dependsOnChanges(addr addrs.Resource) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.graph.resourceDeps[addr] {
		if r.changed[d] {
			return true
		}
	}
	return false
}
