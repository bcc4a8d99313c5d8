package planner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/lang/funcs"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// run is one planning pass. Fields written during the walk are guarded by mu.
type run struct {
	cfg     *lang.Config
	opts    Options
	schemas map[addrs.Resource]resourceSchema
	graph   *configGraph
	vals    *values
	// refreshed is the prior state after refresh; read-only during the
	// walk, except for data sources read, which are set under mu.
	refreshed *state.State
	// byResource indexes refreshed by resource, built once before the walk.
	byResource map[addrs.Resource][]*state.Instance
	// targeted is the set of resources to refresh and plan when --target
	// is given (targets.go); targetKeys narrows some of them to instances,
	// destroying lists the instances a targeted destroy takes.
	targeted   map[addrs.Resource]bool
	targetKeys map[addrs.Resource]map[addrs.Key]bool
	destroying map[addrs.Instance]bool
	replace    map[addrs.Instance]bool
	// imported holds the objects this plan's import blocks brought into
	// the prior state, with the ID each was found by.
	imported map[addrs.Instance]string
	// forgotten lists the objects removed blocks let go undestroyed.
	forgotten []addrs.Instance
	// sem bounds provider calls in flight; providers themselves run at
	// most Parallelism at once (see providers.QueuedPerSlot).
	sem chan struct{}

	mu      sync.Mutex
	changes []*plan.Change
	// changed holds the resources with a planned change other than a
	// no-op, so that data sources depending on them read during apply.
	changed map[addrs.Resource]bool
	outputs []*plan.OutputChange
	diags   hcl.Diagnostics
}

func (r *run) addDiags(d hcl.Diagnostics) {
	if len(d) == 0 {
		return
	}
	r.mu.Lock()
	r.diags = append(r.diags, d...)
	r.mu.Unlock()
}

func (r *run) addChange(c *plan.Change) {
	if rc := r.cfg.Resources[c.Addr.Resource]; rc != nil {
		c.Timeouts = plan.Timeouts(rc.Timeouts)
	}
	r.mu.Lock()
	r.changes = append(r.changes, c)
	if c.Action != plan.NoOp {
		r.changed[c.Addr.Resource] = true
	}
	r.mu.Unlock()
	if r.opts.Hooks != nil {
		r.opts.Hooks.Planned(c)
	}
}

// Plan computes the plan. The returned plan is non-nil whenever anything
// was planned, also with errors (then Errored is set).
func Plan(ctx context.Context, cfg *lang.Config, prior *state.State, opts Options) (*plan.Plan, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if opts.Mode == "" {
		opts.Mode = plan.Normal
	}
	if opts.Runbook != nil {
		// A runbook run changes no resource of the configuration: it
		// evaluates it over the refreshed state, as a refresh-only plan
		// does, without recording the refresh.
		opts.Mode = plan.RunbookMode
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 10
	}
	if prior == nil {
		prior = state.New()
	}
	if opts.PlanTime.IsZero() {
		opts.PlanTime = time.Now().UTC().Truncate(time.Second)
	}
	// Moves and imports edit a copy of the prior state. A refresh-only
	// plan records what refresh finds and nothing else; only a normal
	// plan imports.
	moving := len(cfg.Moved) > 0 && opts.Mode != plan.RefreshOnly && opts.Mode != plan.RunbookMode
	importing := len(cfg.Imports) > 0 && opts.Mode == plan.Normal
	if moving || importing {
		prior = prior.DeepCopy()
	}
	var moved []addrs.Move
	if moving {
		var d hcl.Diagnostics
		moved, d = applyMoved(cfg, prior, opts.Targets)
		diags = append(diags, d...)
	}
	r := &run{cfg: cfg, opts: opts, vals: newValues(opts.Variables), sem: make(chan struct{}, opts.Parallelism*providers.QueuedPerSlot),
		changed: map[addrs.Resource]bool{}}

	schemas, d := lookupSchemas(ctx, opts.Providers, cfg)
	if d.HasErrors() || validateRunbookResources(ctx, cfg, opts.Providers).HasErrors() {
		// Report every configuration error, not only the first kind.
		return nil, Validate(ctx, cfg, opts.Providers)
	}
	diags = append(diags, d...)
	r.schemas = schemas
	if importing {
		r.imported, d = importBlocks(ctx, cfg, opts, prior)
		diags = append(diags, d...)
		if d.HasErrors() {
			return nil, diags
		}
	}
	// Without targets, refreshing needs no graph: the providers read the
	// state while the graph is built.
	var (
		refreshed    *state.State
		drift        []*plan.Change
		refreshDiags hcl.Diagnostics
		refreshDone  chan struct{}
	)
	refreshCtx, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	if len(opts.Targets) == 0 {
		refreshDone = make(chan struct{})
		go func() {
			defer close(refreshDone)
			refreshed, drift, refreshDiags = r.refresh(refreshCtx, prior)
		}()
	}
	abandonRefresh := func() {
		stopRefresh()
		if refreshDone != nil {
			<-refreshDone
		}
	}
	graph, d := buildGraph(cfg, schemas)
	if d.HasErrors() {
		abandonRefresh()
		return nil, Validate(ctx, cfg, opts.Providers)
	}
	diags = append(diags, d...)
	r.graph = graph
	d = r.resolveTargets(prior)
	diags = append(diags, d...)
	if d.HasErrors() {
		abandonRefresh()
		return nil, diags
	}

	if refreshDone != nil {
		<-refreshDone
	} else {
		refreshed, drift, refreshDiags = r.refresh(ctx, prior)
	}
	diags = append(diags, refreshDiags...)
	if diags.HasErrors() {
		return nil, diags
	}
	r.refreshed = refreshed
	r.byResource = indexByResource(refreshed)

	p := &plan.Plan{
		Mode:       opts.Mode,
		Lineage:    prior.Lineage,
		Serial:     prior.Serial,
		ConfigHash: cfg.Hash(),
		Timestamp:  opts.PlanTime,
		Variables:  opts.Variables,
		Drift:      drift,
		PriorState: refreshed,
		Targets:    opts.Targets,
	}
	switch opts.Mode {
	case plan.Destroy:
		diags = append(diags, r.planDestroy(ctx)...)
	case plan.RefreshOnly:
		r.walk(ctx, true)
		diags = append(diags, r.diags...)
	case plan.RunbookMode:
		r.walk(ctx, true)
		diags = append(diags, r.diags...)
		if !diags.HasErrors() {
			var d hcl.Diagnostics
			p.Runbook, d = r.planRunbook(ctx, opts.Runbook)
			diags = append(diags, d...)
		}
		p.Drift = nil
		r.outputs = nil
	default:
		r.walk(ctx, false)
		diags = append(diags, r.diags...)
		if !diags.HasErrors() {
			diags = append(diags, r.planOrphans(ctx)...)
		}
		diags = append(diags, r.fencedChanges()...)
	}
	p.Changes = r.changes
	p.Outputs = r.outputs
	p.Moved = moved
	p.Forgotten = r.forgotten
	markMoved(p.Changes, moved)
	for _, c := range p.Changes {
		c.ImportID = r.imported[c.Addr]
	}
	p.Errored = diags.HasErrors()
	p.Sort()
	return p, diags
}

// walk evaluates the configuration in dependency order and plans every
// resource. With refreshOnly it only evaluates values and outputs.
func (r *run) walk(ctx context.Context, refreshOnly bool) {
	err := r.graph.g.Walk(ctx, cap(r.sem), func(ctx context.Context, n node) error {
		var d hcl.Diagnostics
		kind, name, _ := strings.Cut(string(n), ".")
		switch kind {
		case "var":
		case "local":
			d = r.evalLocal(name)
		case "host":
			d = r.evalHost(name)
		case "output":
			d = r.evalOutput(name)
		default:
			addr, err := addrs.ParseResource(string(n))
			if err != nil {
				return err
			}
			switch {
			case refreshOnly || (r.targeted != nil && !r.targeted[addr]):
				r.vals.setResource(addr, resourceValueFromInstances(r.byResource[addr]))
			default:
				d = r.planResource(ctx, addr)
			}
		}
		r.addDiags(d)
		if d.HasErrors() {
			return errors.New("diagnostics")
		}
		return nil
	})
	if err != nil && ctx.Err() != nil {
		r.addDiags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Planning interrupted", Detail: "The plan was cancelled before it finished; nothing was changed."}})
	}
}

func (r *run) scope(inst lang.Instance) *lang.Scope {
	return &lang.Scope{Data: r.vals, BaseDir: r.cfg.Dir, Instance: inst, PlanTime: r.opts.PlanTime}
}

func (r *run) evalLocal(name string) hcl.Diagnostics {
	v, d := r.scope(lang.Instance{}).EvalExpr(r.cfg.Locals[name].Expr, cty.DynamicPseudoType)
	r.vals.setLocal(name, v)
	return d
}

func (r *run) evalHost(name string) hcl.Diagnostics {
	h := r.cfg.Hosts[name]
	v, d := r.scope(lang.Instance{}).EvalBody(h.Config, hostSpec)
	if d.HasErrors() {
		return d
	}
	v, hd := hostValue(h, v)
	r.vals.setHost(name, v)
	return append(d, hd...)
}

func (r *run) evalOutput(name string) hcl.Diagnostics {
	o := r.cfg.Outputs[name]
	v, d := r.scope(lang.Instance{}).EvalExpr(o.Expr, cty.DynamicPseudoType)
	if d.HasErrors() {
		return d
	}
	unmarked, pvm := v.UnmarkDeepWithPaths()
	sensitive := o.Sensitive
	if len(pvm) > 0 && !o.Sensitive {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Output refers to sensitive values",
			Detail:   "This output's value is derived from sensitive values. Add `sensitive = true` to the output block to show that you mean to expose it.",
			Subject:  o.DeclRange.Ptr(),
		}}
	}
	before := cty.NullVal(cty.DynamicPseudoType)
	action := plan.Create
	if prev, ok := r.refreshed.Outputs[name]; ok {
		before = prev.Value
		action = plan.Update
		if unmarked.IsWhollyKnown() && prev.Value.RawEquals(unmarked) {
			action = plan.NoOp
		}
	}
	r.mu.Lock()
	r.outputs = append(r.outputs, &plan.OutputChange{Name: name, Action: action, Before: before, After: unmarked, Sensitive: sensitive})
	r.mu.Unlock()
	return d
}

// providerDiags turns a provider's diagnostics into configuration
// diagnostics pointing at the attribute they are about when it can be
// found in body, else at the resource block. secrets are the texts of the
// sensitive values the provider was given (funcs.SensitiveTexts): a
// provider quotes what it refuses (`the mode "…" is not octal`) and knows
// nothing of marks, so the core takes them out of whatever it says.
func providerDiags(pd providers.Diagnostics, provider string, addr addrs.Instance, body hcl.Body, fallback hcl.Range, secrets []string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, d := range pd {
		sev := hcl.DiagError
		if d.Severity == providers.Warning {
			sev = hcl.DiagWarning
		}
		subject := attrRange(body, d.Path)
		if subject == nil {
			subject = fallback.Ptr()
		}
		detail := funcs.Redact(d.Detail, secrets)
		if detail != "" {
			detail += "\n\n"
		}
		detail += fmt.Sprintf("(from provider %q, for %s)", provider, addr)
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Summary: funcs.Redact(d.Summary, secrets), Detail: detail, Subject: subject})
	}
	return diags
}

// attrRange finds the source range of the attribute a path names, when the
// body is native syntax: a top-level attribute, or one inside the Nth
// nested block of a type (path block[N].attribute; the block's header
// when the attribute is not written there).
func attrRange(body hcl.Body, path cty.Path) *hcl.Range {
	if len(path) == 0 || body == nil {
		return nil
	}
	step, ok := path[0].(cty.GetAttrStep)
	if !ok {
		return nil
	}
	attrs, _ := body.JustAttributes()
	if a, ok := attrs[step.Name]; ok {
		return a.Range.Ptr()
	}
	sb, ok := body.(*hclsyntax.Body)
	if !ok || len(path) < 2 {
		return nil
	}
	idx, ok := path[1].(cty.IndexStep)
	if !ok || idx.Key.Type() != cty.Number {
		return nil
	}
	n, _ := idx.Key.AsBigFloat().Int64()
	for _, b := range sb.Blocks {
		if b.Type != step.Name {
			continue
		}
		if n == 0 {
			if r := attrRange(b.Body, path[2:]); r != nil {
				return r
			}
			return b.DefRange().Ptr()
		}
		n--
	}
	return nil
}

// Validate checks cfg against the providers' schemas without state:
// every resource body decodes, every reference resolves, no cycles.
func Validate(ctx context.Context, cfg *lang.Config, reg *providers.Registry) hcl.Diagnostics {
	// Each check below stands on its own, so that one run reports every
	// error it can: a resource of an unknown type is left out of the
	// checks that need its schema, not the reason to stop.
	schemas, diags := lookupSchemas(ctx, reg, cfg)
	_, d := buildGraph(cfg, schemas)
	diags = append(diags, d...)
	if !diags.HasErrors() {
		diags = append(diags, providerConfigs(ctx, cfg, nil, reg, false)...)
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Hosts)) {
		h := cfg.Hosts[name]
		decoded, d := (&lang.Scope{Data: unknownData{}, BaseDir: cfg.Dir}).EvalBody(h.Config, hostSpec)
		diags = append(diags, d...)
		if !d.HasErrors() {
			_, d = hostValue(h, decoded)
			diags = append(diags, d...)
		}
	}
	addrsSorted := make([]addrs.Resource, 0, len(schemas))
	for addr := range schemas {
		addrsSorted = append(addrsSorted, addr)
	}
	sort.Slice(addrsSorted, func(i, j int) bool { return addrsSorted[i].String() < addrsSorted[j].String() })
	for _, addr := range addrsSorted {
		diags = append(diags, validateResource(ctx, cfg, cfg.Resources[addr], schemas[addr])...)
	}
	return append(diags, validateRunbookResources(ctx, cfg, reg)...)
}

// validateResource checks one resource block against its schema and its
// provider's Validate. Decoding with unknown inputs checks names and
// structure only.
func validateResource(ctx context.Context, cfg *lang.Config, r *lang.Resource, rs resourceSchema) hcl.Diagnostics {
	scope := &lang.Scope{Data: unknownData{}, BaseDir: cfg.Dir}
	val, diags := scope.EvalBody(r.Config, rs.spec)
	if diags.HasErrors() {
		return diags
	}
	kind := providers.KindResource
	if r.Addr.Mode == addrs.Data {
		kind = providers.KindData
	}
	unmarked, _ := val.UnmarkDeep()
	resp := rs.client.Validate(ctx, providers.ValidateRequest{Kind: kind, TypeName: r.Addr.Type, Config: unmarked})
	return append(diags, providerDiags(resp.Diagnostics, rs.provider, r.Addr.Instance(addrs.Key{}), r.Config, r.DeclRange, funcs.SensitiveTexts(val, rs.sensitive))...)
}

// validateRunbookResources checks the resources runbook steps hold as
// top-level ones are checked: their type, their schema, their provider's
// Validate. Plan checks them too, so that validate and plan agree.
func validateRunbookResources(ctx context.Context, cfg *lang.Config, reg *providers.Registry) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range slices.Sorted(maps.Keys(cfg.Runbooks)) {
		rb := cfg.Runbooks[name]
		for _, sn := range slices.Sorted(maps.Keys(rb.Steps)) {
			held := rb.Steps[sn].Resources
			for _, addr := range slices.SortedFunc(maps.Keys(held), func(a, b addrs.Resource) int { return strings.Compare(a.String(), b.String()) }) {
				r := held[addr]
				rs, d := typeSchema(ctx, reg, addr.Mode, addr.Type, r.Provider, r.TypeRange)
				diags = append(diags, d...)
				if !d.HasErrors() {
					diags = append(diags, validateResource(ctx, cfg, r, rs)...)
				}
			}
		}
	}
	return diags
}

// unknownData answers every reference with an unknown value.
type unknownData struct{}

func (unknownData) Var(string) cty.Value              { return cty.DynamicVal }
func (unknownData) Local(string) cty.Value            { return cty.DynamicVal }
func (unknownData) Host(string) cty.Value             { return cty.DynamicVal }
func (unknownData) Resource(addrs.Resource) cty.Value { return cty.DynamicVal }

func indexByResource(s *state.State) map[addrs.Resource][]*state.Instance {
	out := map[addrs.Resource][]*state.Instance{}
	for _, addr := range s.SortedAddrs() {
		out[addr.Resource] = append(out[addr.Resource], s.Instances[addr])
	}
	return out
}
