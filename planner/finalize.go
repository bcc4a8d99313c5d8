package planner

import (
	"context"
	"fmt"
	"sync"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/lang/funcs"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Finalizer re-evaluates changes at apply time, once the values they were
// waiting for are known; see executor.Finalizer.
type Finalizer struct {
	cfg  *lang.Config
	opts Options

	mu      sync.Mutex
	schemas map[addrs.Resource]resourceSchema
}

// NewFinalizer returns the executor's Finalizer for cfg, planned with opts.
func NewFinalizer(cfg *lang.Config, opts Options) *Finalizer {
	return &Finalizer{cfg: cfg, opts: opts, schemas: map[addrs.Resource]resourceSchema{}}
}

func (f *Finalizer) schema(ctx context.Context, rc *lang.Resource) (resourceSchema, hcl.Diagnostics) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rs, ok := f.schemas[rc.Addr]; ok {
		return rs, nil
	}
	rs, diags := typeSchema(ctx, f.opts.Providers, rc.Addr.Mode, rc.Addr.Type, rc.Provider, rc.TypeRange)
	if !diags.HasErrors() {
		f.schemas[rc.Addr] = rs
	}
	return rs, diags
}

// Finalize evaluates c's configuration over the applied state and plans it
// again. Every value that was known in the plan must come out the same:
// what was shown is what is applied.
func (f *Finalizer) Finalize(ctx context.Context, c *plan.Change, applied *state.State) (*plan.Change, hcl.Diagnostics) {
	rc, ok := f.cfg.Resources[c.Addr.Resource]
	if !ok {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Configuration changed during apply",
			Detail: fmt.Sprintf("%s is no longer in the configuration. Plan again.", c.Addr)}}
	}
	rs, diags := f.schema(ctx, rc)
	if diags.HasErrors() {
		return nil, diags
	}
	data := newStateData(f.cfg, f.opts.Variables, applied)
	inst := lang.Instance{Key: c.Addr.Key}
	if c.Addr.Key.Kind == addrs.StrKey {
		each, d := (&lang.Scope{Data: data, BaseDir: f.cfg.Dir, PlanTime: f.opts.PlanTime}).EvalForEach(rc.ForEach)
		if d.HasErrors() {
			return nil, d
		}
		inst.EachValue = each[c.Addr.Key.Str]
	}
	cfgVal, d := (&lang.Scope{Data: data, BaseDir: f.cfg.Dir, Instance: inst, ApplyTime: true, PlanTime: f.opts.PlanTime}).EvalBody(rc.Config, rs.spec)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}
	secrets := append(funcs.SensitiveTexts(cfgVal, rs.sensitive), funcs.SensitiveTexts(c.Before, c.SensitivePaths)...)
	cfgVal, _ = cfgVal.UnmarkDeep()
	out := *c
	out.ConfigUnknown = false
	if c.Action == plan.Read {
		out.After = cfgVal
		return &out, diags
	}
	prior := c.Before
	if c.Action.IsReplace() || c.Action == plan.Create {
		prior = cty.NullVal(c.Before.Type())
	} else {
		cfgVal = ignoreChanges(cfgVal, prior, rc.Lifecycle)
	}
	resp := rs.client.Plan(ctx, planRequest(rs, c.Addr, prior, cfgVal, nil))
	diags = append(diags, providerDiags(resp.Diagnostics, rs.provider, c.Addr, rc.Config, rc.DeclRange, secrets)...)
	if diags.HasErrors() {
		return nil, diags
	}
	if msg := knownDiffers(c.After, resp.Planned); msg != "" {
		secrets = append(secrets, funcs.SensitiveTexts(c.After, c.SensitivePaths)...)
		secrets = append(secrets, funcs.SensitiveTexts(resp.Planned, c.SensitivePaths)...)
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value changed since the plan",
			Detail:  fmt.Sprintf("%s: %s. Something the plan relied on changed; plan again.", c.Addr, funcs.Redact(msg, secrets)),
			Subject: rc.DeclRange.Ptr()})
	}
	out.After = resp.Planned
	out.Private = resp.PlannedPrivate
	return &out, diags
}

// Outputs evaluates the root outputs over the final state.
func (f *Finalizer) Outputs(ctx context.Context, applied *state.State) (map[string]state.Output, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	data := newStateData(f.cfg, f.opts.Variables, applied)
	out := make(map[string]state.Output, len(f.cfg.Outputs))
	for name, o := range f.cfg.Outputs {
		v, d := (&lang.Scope{Data: data, BaseDir: f.cfg.Dir, ApplyTime: true, PlanTime: f.opts.PlanTime}).EvalExpr(o.Expr, cty.DynamicPseudoType)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v, pvm := v.UnmarkDeepWithPaths()
		if !v.IsWhollyKnown() {
			continue
		}
		out[name] = state.Output{Value: v, Sensitive: o.Sensitive || len(pvm) > 0}
	}
	return out, diags
}

// knownDiffers reports a value that was known in planned and differs in
// final; unknown planned values may become anything.
func knownDiffers(planned, final cty.Value) string {
	var msg string
	cty.Walk(planned, func(p cty.Path, pv cty.Value) (bool, error) {
		if msg != "" || !pv.IsKnown() {
			return false, nil
		}
		if pv.IsNull() || pv.Type().IsPrimitiveType() {
			fv, err := p.Apply(final)
			if err != nil || !fv.RawEquals(pv) {
				msg = fmt.Sprintf("the plan showed %s for %s", pv.GoString(), p)
			}
			return false, nil
		}
		return true, nil
	})
	return msg
}

// stateData answers references over an applied state. Locals and hosts are
// evaluated on demand and remembered for the life of one stateData, which
// serves one Finalize or Outputs call.
type stateData struct {
	cfg     *lang.Config
	vars    map[string]cty.Value
	applied *state.State

	mu     sync.Mutex
	locals map[string]cty.Value
	hosts  map[string]cty.Value
}

func newStateData(cfg *lang.Config, vars map[string]cty.Value, applied *state.State) *stateData {
	return &stateData{cfg: cfg, vars: vars, applied: applied, locals: map[string]cty.Value{}, hosts: map[string]cty.Value{}}
}

func (s *stateData) Var(name string) cty.Value {
	if v, ok := s.vars[name]; ok {
		return v
	}
	return cty.DynamicVal
}

func (s *stateData) Local(name string) cty.Value {
	s.mu.Lock()
	v, ok := s.locals[name]
	s.mu.Unlock()
	if ok {
		return v
	}
	l, ok := s.cfg.Locals[name]
	if !ok {
		return cty.DynamicVal
	}
	v, _ = (&lang.Scope{Data: s, BaseDir: s.cfg.Dir}).EvalExpr(l.Expr, cty.DynamicPseudoType)
	s.mu.Lock()
	s.locals[name] = v
	s.mu.Unlock()
	return v
}

func (s *stateData) Host(name string) cty.Value {
	s.mu.Lock()
	v, ok := s.hosts[name]
	s.mu.Unlock()
	if ok {
		return v
	}
	h, ok := s.cfg.Hosts[name]
	if !ok {
		return cty.DynamicVal
	}
	decoded, diags := (&lang.Scope{Data: s, BaseDir: s.cfg.Dir}).EvalBody(h.Config, hostSpec)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	v, diags = hostValue(h, decoded)
	if diags.HasErrors() {
		return cty.DynamicVal
	}
	s.mu.Lock()
	s.hosts[name] = v
	s.mu.Unlock()
	return v
}

func (s *stateData) Resource(addr addrs.Resource) cty.Value {
	return resourceValueFromState(s.applied, addr)
}

// Import finds the object id names for the resource at addr, as the plan's
// import block did.
func (f *Finalizer) Import(ctx context.Context, addr addrs.Instance, id string) (*state.Instance, hcl.Diagnostics) {
	rc, ok := f.cfg.Resources[addr.Resource]
	if !ok {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Import target not declared",
			Detail: fmt.Sprintf("%s is not declared in the configuration.", addr.Resource)}}
	}
	resolved, diags := ImportID(f.cfg, f.opts.Variables, id)
	if diags.HasErrors() {
		return nil, diags
	}
	return Import(ctx, f.opts.Providers, addr, rc.Provider, resolved)
}
