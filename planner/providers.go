package planner

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/providers"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// ConfigureProviders evaluates the configuration's provider blocks and
// configures those providers in reg. Plan and apply call it first: a
// provider is configured before it reads or plans anything, so its
// configuration may refer to variables, locals and hosts, never to
// resources. Providers without a block are configured with null when first
// used.
func ConfigureProviders(ctx context.Context, cfg *lang.Config, vars map[string]cty.Value, reg *providers.Registry) hcl.Diagnostics {
	return providerConfigs(ctx, cfg, vars, reg, true)
}

// providerConfigs evaluates every provider block and, with configure,
// configures the provider; without, it only checks the blocks (vars may
// then be nil: every variable is unknown).
func providerConfigs(ctx context.Context, cfg *lang.Config, vars map[string]cty.Value, reg *providers.Registry, configure bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	e := &staticEval{cfg: cfg, vals: newValues(vars), done: map[node]bool{}}
	for _, name := range slices.Sorted(maps.Keys(cfg.Providers)) {
		pc := cfg.Providers[name]
		ps, err := reg.Schema(ctx, name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown provider",
				Detail: fmt.Sprintf("%s. Providers available: %s; a third-party provider must be listed in required_providers and installed with `drover init`.",
					err, strings.Join(reg.Names(), ", ")),
				Subject: pc.DeclRange.Ptr()})
			continue
		}
		spec := hcldec.Spec(hcldec.ObjectSpec{})
		if ps.Config != nil {
			spec = ps.Config.DecoderSpec()
		}
		refs, d := lang.BodyRefs(pc.Config, spec)
		diags = append(diags, d...)
		if d := e.need(refs, fmt.Sprintf("provider %q", name), ""); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		v, d := e.scope().EvalBody(pc.Config, spec)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if !configure {
			continue
		}
		v, _ = v.UnmarkDeep()
		if !v.IsWhollyKnown() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Provider configuration not known",
				Detail:  fmt.Sprintf("The configuration of provider %q holds values that are not known until apply (timestamp(), uuid()); a provider is configured before anything is applied.", name),
				Subject: pc.DeclRange.Ptr()})
			continue
		}
		if err := reg.Configure(ctx, name, v); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Provider configuration rejected",
				Detail: err.Error(), Subject: pc.DeclRange.Ptr()})
		}
	}
	return diags
}

// staticEval evaluates the variables, locals and hosts that provider
// configurations need, in dependency order, before any resource is planned.
type staticEval struct {
	cfg  *lang.Config
	vals *values
	// done marks locals and hosts evaluated, or being evaluated (a cycle is
	// reported by the configuration graph when planning).
	done map[node]bool
}

func (e *staticEval) scope() *lang.Scope {
	return &lang.Scope{Data: e.vals, BaseDir: e.cfg.Dir}
}

// need evaluates what refs refer to, refusing references to resources;
// via names the local or host the references were found in, if any.
func (e *staticEval) need(refs []lang.Ref, user, via string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, ref := range refs {
		switch ref.Kind {
		case lang.RefLocal:
			diags = append(diags, e.local(ref.Name, user)...)
		case lang.RefHost:
			diags = append(diags, e.host(ref.Name, user)...)
		case lang.RefResource:
			through := ""
			if via != "" {
				through = " through " + via
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Provider configuration refers to a resource",
				Detail: fmt.Sprintf("The configuration of %s refers to %s%s. Providers are configured before anything is read or planned, "+
					"so their configuration may use variables, locals and hosts only.", user, ref.Resource, through),
				Subject: ref.Range.Ptr()})
		}
	}
	return diags
}

func (e *staticEval) local(name, user string) hcl.Diagnostics {
	l, ok := e.cfg.Locals[name]
	if !ok || e.done[localNode(name)] {
		return nil
	}
	e.done[localNode(name)] = true
	refs, diags := lang.ExprRefs(l.Expr)
	if d := e.need(refs, user, "local."+name); d.HasErrors() {
		return append(diags, d...)
	}
	v, d := e.scope().EvalExpr(l.Expr, cty.DynamicPseudoType)
	e.vals.setLocal(name, v)
	return append(diags, d...)
}

func (e *staticEval) host(name, user string) hcl.Diagnostics {
	h, ok := e.cfg.Hosts[name]
	if !ok || e.done[hostNode(name)] {
		return nil
	}
	e.done[hostNode(name)] = true
	refs, diags := lang.BodyRefs(h.Config, hostSpec)
	if d := e.need(refs, user, "host."+name); d.HasErrors() {
		return append(diags, d...)
	}
	v, d := e.scope().EvalBody(h.Config, hostSpec)
	diags = append(diags, d...)
	if d.HasErrors() {
		return diags
	}
	v, d = hostValue(h, v)
	e.vals.setHost(name, v)
	return append(diags, d...)
}
