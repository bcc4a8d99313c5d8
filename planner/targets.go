package planner

import (
	"fmt"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/internal/suggest"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
)

// resolveTargets works out what --target lets the run touch.
//
// Planning, it is the targets and everything they depend on, by resource.
// A resource that --target names only by instance addresses, and that no
// other target depends on, has just those instances planned; its other
// instances keep what the state holds, and instances the state lacks are
// not created.
//
// Destroying, it is the targeted instances and every instance in the state
// that depends on one of them, directly or through others: those cannot
// outlive what they depend on. What the targets depend on stays.
func (r *run) resolveTargets(prior *state.State) hcl.Diagnostics {
	r.replace = map[addrs.Instance]bool{}
	for _, a := range r.opts.Replace {
		r.replace[a] = true
	}
	if len(r.opts.Targets) == 0 {
		return nil
	}
	var diags hcl.Diagnostics
	for _, t := range r.opts.Targets {
		_, inConfig := r.cfg.Resources[t.Resource]
		switch {
		case inConfig:
		case r.opts.Mode == plan.Destroy && len(prior.Resource(t.Resource)) > 0:
		default:
			detail := fmt.Sprintf("The target %s names no resource block of this configuration.", t)
			if near := suggest.Nearest(t.Resource.String(), r.resourceNames()); near != "" {
				detail += fmt.Sprintf(" Did you mean %s?", near)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Target not in configuration",
				Detail:   detail + " Check the address with `drover state list`.",
			})
		}
	}
	if diags.HasErrors() {
		return diags
	}
	covers := "what they depend on"
	if r.opts.Mode == plan.Destroy {
		r.resolveDestroyTargets(prior)
		covers = "what depends on them"
	} else {
		r.resolvePlanTargets()
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagWarning,
		Summary:  targetingSummary,
		Detail:   fmt.Sprintf("This plan covers only the resources --target names and %s; other changes the configuration asks for are left for a plan without --target.", covers),
	}}
}

// targetingSummary is the summary of the warning that a plan is targeted.
const targetingSummary = "Resource targeting is in effect"

func (r *run) resolvePlanTargets() {
	r.targeted = map[addrs.Resource]bool{}
	whole := map[addrs.Resource]bool{}
	var visit func(a addrs.Resource, direct bool)
	visit = func(a addrs.Resource, direct bool) {
		if !direct {
			whole[a] = true
		}
		if r.targeted[a] {
			return
		}
		r.targeted[a] = true
		for _, d := range r.graph.resourceDeps[a] {
			visit(d, false)
		}
	}
	keys := map[addrs.Resource]map[addrs.Key]bool{}
	for _, t := range r.opts.Targets {
		visit(t.Resource, true)
		if t.Key.Kind == addrs.NoKey {
			whole[t.Resource] = true
			continue
		}
		if keys[t.Resource] == nil {
			keys[t.Resource] = map[addrs.Key]bool{}
		}
		keys[t.Resource][t.Key] = true
	}
	r.targetKeys = map[addrs.Resource]map[addrs.Key]bool{}
	for res, ks := range keys {
		if !whole[res] {
			r.targetKeys[res] = ks
		}
	}
}

func (r *run) resolveDestroyTargets(prior *state.State) {
	dependents := map[addrs.Resource][]addrs.Instance{}
	for addr, inst := range prior.Instances {
		for _, d := range inst.Dependencies {
			dependents[d] = append(dependents[d], addr)
		}
	}
	r.destroying = map[addrs.Instance]bool{}
	r.targeted = map[addrs.Resource]bool{}
	var visit func(a addrs.Instance)
	visit = func(a addrs.Instance) {
		if r.destroying[a] {
			return
		}
		r.destroying[a] = true
		r.targeted[a.Resource] = true
		for _, d := range dependents[a.Resource] {
			visit(d)
		}
	}
	for _, t := range r.opts.Targets {
		for _, inst := range prior.Resource(t.Resource) {
			if t.Key.Kind == addrs.NoKey || t.Key == inst.Addr.Key {
				visit(inst.Addr)
			}
		}
	}
}

// resourceNames lists the addresses of the resource blocks.
func (r *run) resourceNames() []string {
	names := make([]string, 0, len(r.cfg.Resources))
	for a := range r.cfg.Resources {
		names = append(names, a.String())
	}
	return names
}

// targetsInstance says whether the run may change the instance at addr.
func (r *run) targetsInstance(addr addrs.Instance) bool {
	switch {
	case r.targeted == nil:
		return true
	case r.destroying != nil:
		return r.destroying[addr]
	case !r.targeted[addr.Resource]:
		return false
	case r.targetKeys[addr.Resource] != nil:
		return r.targetKeys[addr.Resource][addr.Key]
	}
	return true
}

// targeted says whether targets name addr or its whole resource (all do
// when there are none): what moves and imports may touch, decided before
// the graph that resolveTargets needs exists.
func targeted(targets []addrs.Instance, addr addrs.Instance) bool {
	if len(targets) == 0 {
		return true
	}
	for _, t := range targets {
		if t.Resource == addr.Resource && (t.Key.Kind == addrs.NoKey || t.Key == addr.Key) {
			return true
		}
	}
	return false
}
