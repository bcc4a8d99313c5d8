package sdk

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
)

// PanicSummary is the summary of the diagnostic a recovered panic becomes.
const PanicSummary = "Provider crashed"

// New returns p as a providers.Provider, for serving or for use in process
// in tests. p must not change afterwards.
func New(p *Provider) providers.Provider {
	s := &server{
		p:          p,
		resources:  make(map[string]resourceType, len(p.Resources)),
		data:       make(map[string]dataType, len(p.DataSources)),
		actions:    make(map[string]actionType, len(p.Actions)),
		configType: cty.EmptyObject,
		schema: &schema.Provider{
			Config:        p.Config,
			ResourceTypes: make(map[string]*schema.Resource, len(p.Resources)),
			DataSources:   make(map[string]*schema.Resource, len(p.DataSources)),
			Actions:       make(map[string]*schema.Action, len(p.Actions)),
		},
	}
	if p.Config != nil {
		s.configType = p.Config.ImpliedType()
	}
	for name, r := range p.Resources {
		rs := *r.Schema
		rs.StateOnly = r.Read == nil
		s.schema.ResourceTypes[name] = &rs
		s.resources[name] = resourceType{r, r.Schema.Block.ImpliedType()}
	}
	for name, d := range p.DataSources {
		s.schema.DataSources[name] = d.Schema
		s.data[name] = dataType{d, d.Schema.Block.ImpliedType()}
	}
	for name, a := range p.Actions {
		s.schema.Actions[name] = a.Schema
		at := actionType{a, &schema.Block{}, cty.EmptyObject}
		if a.Schema.Args != nil {
			at.args, at.ty = a.Schema.Args, a.Schema.Args.ImpliedType()
		}
		s.actions[name] = at
	}
	s.stop, s.stopNow = context.WithCancel(context.Background())
	return s
}

type server struct {
	p          *Provider
	schema     *schema.Provider
	configType cty.Type
	resources  map[string]resourceType
	data       map[string]dataType
	actions    map[string]actionType

	stopMu  sync.Mutex
	stop    context.Context
	stopNow context.CancelFunc
}

type resourceType struct {
	*Resource
	ty cty.Type
}

type dataType struct {
	*DataSource
	ty cty.Type
}

type actionType struct {
	*Action
	args *schema.Block
	ty   cty.Type
}

// call derives the context of one call: it ends with ctx or on Stop.
func (s *server) call(ctx context.Context) (context.Context, func()) {
	s.stopMu.Lock()
	stop := s.stop
	s.stopMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(stop, cancel)
	return ctx, func() { unhook(); cancel() }
}

// recoverPanic turns a panic of the calling goroutine into a diagnostic.
// It must be deferred directly.
func (s *server) recoverPanic(call, typeName string, diags *providers.Diagnostics) {
	r := recover()
	if r == nil {
		return
	}
	what := call
	if typeName != "" {
		what = fmt.Sprintf("%s of %q", call, typeName)
	}
	*diags = append(*diags, providers.Errorf(PanicSummary,
		"The provider %q crashed in %s: %v. This is a bug in the provider; please report it with this trace:\n%s",
		s.p.Name, what, r, debug.Stack()))
}

// progress guards f so that calls after the request returned are dropped.
func progress(f func(providers.Progress)) (func(providers.Progress), func()) {
	if f == nil {
		return func(providers.Progress) {}, func() {}
	}
	var done atomic.Bool
	return func(p providers.Progress) {
		if !done.Load() {
			f(p)
		}
	}, func() { done.Store(true) }
}

func (s *server) Schema(ctx context.Context, req providers.SchemaRequest) providers.SchemaResponse {
	return providers.SchemaResponse{Schema: s.schema}
}

func (s *server) Configure(ctx context.Context, req providers.ConfigureRequest) (resp providers.ConfigureResponse) {
	defer s.recoverPanic("Configure", "", &resp.Diagnostics)
	config := req.Config
	if config == cty.NilVal {
		config = cty.NullVal(s.configType)
	}
	if s.p.Config != nil && !config.IsNull() {
		diags := validateBlock(s.p.Config, config, nil)
		if !diags.HasErrors() {
			config, diags = conform(s.configType, config)
		}
		resp.Diagnostics = append(resp.Diagnostics, diags...)
		if diags.HasErrors() {
			return resp
		}
	}
	if s.p.Configure != nil {
		ctx, done := s.call(ctx)
		defer done()
		resp.Diagnostics = append(resp.Diagnostics, s.p.Configure(ctx, config)...)
	}
	return resp
}

func (s *server) Validate(ctx context.Context, req providers.ValidateRequest) (resp providers.ValidateResponse) {
	defer s.recoverPanic("Validate", req.TypeName, &resp.Diagnostics)
	var (
		block *schema.Block
		ty    cty.Type
		hook  func(context.Context, cty.Value) providers.Diagnostics
	)
	switch req.Kind {
	case providers.KindResource:
		r, diags := s.resource(req.TypeName)
		if diags.HasErrors() {
			return providers.ValidateResponse{Diagnostics: diags}
		}
		block, ty, hook = r.Schema.Block, r.ty, r.Validate
	case providers.KindData:
		d, diags := s.dataSource(req.TypeName)
		if diags.HasErrors() {
			return providers.ValidateResponse{Diagnostics: diags}
		}
		block, ty, hook = d.Schema.Block, d.ty, d.Validate
	case providers.KindAction:
		a, diags := s.action(req.TypeName)
		if diags.HasErrors() {
			return providers.ValidateResponse{Diagnostics: diags}
		}
		block, ty = a.args, a.ty
	default:
		resp.Diagnostics = append(resp.Diagnostics, providers.Errorf("Invalid validation request",
			"Provider %q was asked to validate something of unknown kind %d.", s.p.Name, req.Kind))
		return resp
	}
	ctx, done := s.call(ctx)
	defer done()
	_, resp.Diagnostics = validate(ctx, block, ty, req.Config, hook)
	return resp
}

// validate checks config against block, then calls hook on the config
// converted to ty, the block's type.
func validate(ctx context.Context, block *schema.Block, ty cty.Type, config cty.Value, hook func(context.Context, cty.Value) providers.Diagnostics) (cty.Value, providers.Diagnostics) {
	if config == cty.NilVal {
		return cty.NullVal(ty), nil
	}
	if config.IsNull() || !config.IsKnown() {
		return config, nil
	}
	diags := validateBlock(block, config, nil)
	if diags.HasErrors() {
		return config, diags
	}
	config, d := conform(ty, config)
	diags = append(diags, d...)
	if diags.HasErrors() || hook == nil {
		return config, diags
	}
	return config, append(diags, hook(ctx, config)...)
}

func (s *server) resource(typeName string) (resourceType, providers.Diagnostics) {
	r, ok := s.resources[typeName]
	if !ok {
		return r, providers.Diagnostics{providers.Errorf("Unsupported resource type",
			"Provider %q has no resource type %q.", s.p.Name, typeName)}
	}
	return r, nil
}

func (s *server) dataSource(typeName string) (dataType, providers.Diagnostics) {
	d, ok := s.data[typeName]
	if !ok {
		return d, providers.Diagnostics{providers.Errorf("Unsupported data source",
			"Provider %q has no data source %q.", s.p.Name, typeName)}
	}
	return d, nil
}

func (s *server) action(name string) (actionType, providers.Diagnostics) {
	a, ok := s.actions[name]
	if !ok {
		return a, providers.Diagnostics{providers.Errorf("Unsupported action",
			"Provider %q has no action %q.", s.p.Name, name)}
	}
	return a, nil
}

func (s *server) Read(ctx context.Context, req providers.ReadRequest) (resp providers.ReadResponse) {
	defer s.recoverPanic("Read", req.TypeName, &resp.Diagnostics)
	r, diags := s.resource(req.TypeName)
	if diags.HasErrors() {
		return providers.ReadResponse{Diagnostics: diags}
	}
	resp.Private = req.Private
	prior, diags := conform(r.ty, req.Prior)
	resp.Diagnostics = diags
	if diags.HasErrors() || prior.IsNull() || r.Read == nil {
		resp.New = prior
		return resp
	}
	ctx, done := s.call(ctx)
	defer done()
	nv, diags := r.Read(ctx, prior)
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	resp.New, diags = s.result(r, "Read", nv, prior)
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	return resp
}

// result checks a value returned by an author's function: null is allowed
// (gone), otherwise it must be wholly known and of the resource's type.
// On failure it returns fallback.
func (s *server) result(r resourceType, call string, v, fallback cty.Value) (cty.Value, providers.Diagnostics) {
	if v == cty.NilVal || v.IsNull() {
		return cty.NullVal(r.ty), nil
	}
	if !v.IsWhollyKnown() {
		return fallback, providers.Diagnostics{providers.Errorf("Provider returned unknown values",
			"Provider %q returned a value with unknown attributes from %s; every value must be known after %s. This is a bug in the provider.", s.p.Name, call, call)}
	}
	v, diags := conform(r.ty, v)
	if diags.HasErrors() {
		return fallback, append(diags, providers.Errorf("Provider returned an invalid value",
			"Provider %q returned from %s a value that does not match its schema. This is a bug in the provider.", s.p.Name, call))
	}
	return v, diags
}

func (s *server) Plan(ctx context.Context, req providers.PlanRequest) (resp providers.PlanResponse) {
	defer s.recoverPanic("Plan", req.TypeName, &resp.Diagnostics)
	r, diags := s.resource(req.TypeName)
	if diags.HasErrors() {
		return providers.PlanResponse{Diagnostics: diags}
	}
	block := r.Schema.Block
	resp.PlannedPrivate = req.PriorPrivate
	if req.Config == cty.NilVal || req.Config.IsNull() {
		resp.Planned = cty.NullVal(r.ty)
		if r.DescribeDelete != nil && req.Prior != cty.NilVal && !req.Prior.IsNull() {
			prior, diags := conform(r.ty, req.Prior)
			if resp.Diagnostics = diags; diags.HasErrors() {
				return resp
			}
			ctx, done := s.call(ctx)
			defer done()
			resp.Description, diags = r.DescribeDelete(ctx, prior)
			resp.Diagnostics = append(resp.Diagnostics, diags...)
		}
		return resp
	}
	prior, diags := conform(r.ty, req.Prior)
	resp.Diagnostics = diags
	if diags.HasErrors() {
		return resp
	}
	ctx, done := s.call(ctx)
	defer done()
	config, diags := validate(ctx, block, r.ty, req.Config, r.Validate)
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	if diags.HasErrors() {
		return resp
	}
	planned := req.Proposed
	if planned == cty.NilVal || planned.IsNull() {
		planned = block.ProposedNew(prior, config)
	}
	p := &Plan{Prior: prior, Config: config, Planned: planned}
	if r.CustomizePlan != nil {
		diags := r.CustomizePlan(ctx, p)
		resp.Diagnostics = append(resp.Diagnostics, diags...)
		if diags.HasErrors() {
			return resp
		}
	}
	planned, diags = conform(r.ty, p.Planned)
	if diags.HasErrors() || planned.IsNull() {
		resp.Diagnostics = append(resp.Diagnostics, diags...)
		resp.Diagnostics = append(resp.Diagnostics, providers.Errorf("Provider produced an invalid plan",
			"Provider %q planned a value for %q that does not match its schema. This is a bug in the provider.", s.p.Name, req.TypeName))
		return resp
	}
	resp.Planned = planned
	resp.Description = p.Description
	resp.RequiresReplace = p.RequiresReplace
	if !prior.IsNull() {
		resp.RequiresReplace = append(resp.RequiresReplace, forceNewChanges(block, prior, planned, nil, r.Update == nil)...)
	}
	return resp
}

// forceNewChanges lists the paths of attributes whose planned value differs
// from prior and whose change forces replacement: ForceNew ones, or any
// when the type cannot be updated in place. A host's connection settings
// alone never force it.
func forceNewChanges(b *schema.Block, prior, planned cty.Value, path cty.Path, all bool) []cty.Path {
	if prior.IsNull() || planned.IsNull() || !prior.IsKnown() || !planned.IsKnown() {
		if prior.RawEquals(planned) {
			return nil
		}
		return []cty.Path{path}
	}
	var out []cty.Path
	for name, a := range b.Attributes {
		if !a.ForceNew && !all {
			continue
		}
		pv, nv := prior.GetAttr(name), planned.GetAttr(name)
		if a.Type.Equals(host.Type) {
			// Another key or known_hosts reaches the same machine.
			pv, nv = host.WithoutConnection(pv), host.WithoutConnection(nv)
		}
		if !pv.RawEquals(nv) {
			out = append(out, appendPath(path, cty.GetAttrStep{Name: name}))
		}
	}
	for name, nb := range b.BlockTypes {
		pv, nv := prior.GetAttr(name), planned.GetAttr(name)
		if pv.RawEquals(nv) {
			continue
		}
		p := appendPath(path, cty.GetAttrStep{Name: name})
		switch {
		case nb.Nesting == schema.NestingSingle:
			out = append(out, forceNewChanges(&nb.Block, pv, nv, p, all)...)
		case all || hasForceNew(&nb.Block):
			out = append(out, p)
		}
	}
	return out
}

// withoutConnections is v with the connection settings of its host
// attributes made null (host.WithoutConnection).
func withoutConnections(b *schema.Block, v cty.Value) cty.Value {
	if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
		return v
	}
	attrs := v.AsValueMap()
	for name, a := range b.Attributes {
		if a.Type.Equals(host.Type) && v.Type().HasAttribute(name) {
			attrs[name] = host.WithoutConnection(attrs[name])
		}
	}
	return cty.ObjectVal(attrs)
}

func hasForceNew(b *schema.Block) bool {
	for _, a := range b.Attributes {
		if a.ForceNew {
			return true
		}
	}
	for _, nb := range b.BlockTypes {
		if hasForceNew(&nb.Block) {
			return true
		}
	}
	return false
}

func appendPath(p cty.Path, step cty.PathStep) cty.Path {
	out := make(cty.Path, len(p), len(p)+1)
	copy(out, p)
	return append(out, step)
}

func (s *server) Apply(ctx context.Context, req providers.ApplyRequest) (resp providers.ApplyResponse) {
	defer s.recoverPanic("Apply", req.TypeName, &resp.Diagnostics)
	r, diags := s.resource(req.TypeName)
	if diags.HasErrors() {
		return providers.ApplyResponse{Diagnostics: diags}
	}
	resp.Private = req.PlannedPrivate
	prior, diags := conform(r.ty, req.Prior)
	resp.Diagnostics = diags
	planned, diags := conform(r.ty, req.Planned)
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	if resp.Diagnostics.HasErrors() {
		resp.New = prior
		return resp
	}
	ctx, done := s.call(ctx)
	defer done()
	report, finished := progress(req.Progress)
	defer finished()
	areq := ApplyRequest{Prior: prior, Planned: planned, Progress: report}

	var nv cty.Value
	switch {
	case planned.IsNull():
		if !prior.IsNull() && r.Delete != nil {
			diags = r.Delete(ctx, areq)
		}
		resp.Diagnostics = append(resp.Diagnostics, diags...)
		resp.New = cty.NullVal(r.ty)
		if diags.HasErrors() {
			resp.New = prior
		}
		return resp
	case prior.IsNull() && r.Create == nil:
		diags = providers.Diagnostics{providers.Errorf("Resource cannot be created",
			"Provider %q does not implement creating %q. This is a bug in the provider.", s.p.Name, req.TypeName)}
	case prior.IsNull():
		nv, diags = r.Create(ctx, areq)
	case r.Update == nil && withoutConnections(r.Schema.Block, prior).RawEquals(withoutConnections(r.Schema.Block, planned)):
		// Only the way to reach a host changed: nothing to do on it.
		nv = planned
	case r.Update == nil:
		diags = providers.Diagnostics{providers.Errorf("Resource cannot be updated in place",
			"Provider %q cannot update %q in place; the plan should have replaced it.", s.p.Name, req.TypeName)}
	default:
		nv, diags = r.Update(ctx, areq)
	}
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	if nv == cty.NilVal {
		resp.New = prior
		return resp
	}
	resp.New, diags = s.result(r, "Apply", nv, prior)
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	if resp.New.IsNull() && !resp.Diagnostics.HasErrors() {
		resp.New = prior
		resp.Diagnostics = append(resp.Diagnostics, providers.Errorf("Provider returned no object",
			"Provider %q returned no object from applying %q, without saying why. This is a bug in the provider.", s.p.Name, req.TypeName))
	}
	return resp
}

func (s *server) Import(ctx context.Context, req providers.ImportRequest) (resp providers.ImportResponse) {
	defer s.recoverPanic("Import", req.TypeName, &resp.Diagnostics)
	r, diags := s.resource(req.TypeName)
	if diags.HasErrors() {
		return providers.ImportResponse{Diagnostics: diags}
	}
	if r.Import == nil {
		resp.Diagnostics = append(resp.Diagnostics, providers.Errorf("Import not supported",
			"Resources of type %q cannot be imported; declare them and let Drover create them.", req.TypeName))
		return resp
	}
	ctx, done := s.call(ctx)
	defer done()
	v, diags := r.Import(ctx, req.ID)
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	if diags.HasErrors() {
		return resp
	}
	v, diags = conform(r.ty, v)
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	if diags.HasErrors() {
		return resp
	}
	if r.Read != nil && !v.IsNull() {
		nv, diags := r.Read(ctx, v)
		resp.Diagnostics = append(resp.Diagnostics, diags...)
		if diags.HasErrors() {
			return resp
		}
		v, diags = s.result(r, "Read", nv, v)
		resp.Diagnostics = append(resp.Diagnostics, diags...)
	}
	if v.IsNull() {
		resp.Diagnostics = append(resp.Diagnostics, providers.Errorf("Cannot import a missing object",
			"There is no %s with the ID %q to import.", req.TypeName, req.ID))
		return resp
	}
	resp.Imported = []providers.ImportedResource{{TypeName: req.TypeName, State: v}}
	return resp
}

func (s *server) ReadData(ctx context.Context, req providers.ReadDataRequest) (resp providers.ReadDataResponse) {
	defer s.recoverPanic("ReadData", req.TypeName, &resp.Diagnostics)
	d, diags := s.dataSource(req.TypeName)
	if diags.HasErrors() {
		return providers.ReadDataResponse{Diagnostics: diags}
	}
	ctx, done := s.call(ctx)
	defer done()
	config, diags := validate(ctx, d.Schema.Block, d.ty, req.Config, d.Validate)
	resp.Diagnostics = diags
	if diags.HasErrors() {
		return resp
	}
	if config == cty.NilVal || config.IsNull() || !config.IsWhollyKnown() {
		resp.Diagnostics = append(resp.Diagnostics, providers.Errorf("Data source configuration not known",
			"Data source %q can only be read once its whole configuration is known.", req.TypeName))
		return resp
	}
	v, diags := d.Read(ctx, config)
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	if diags.HasErrors() {
		return resp
	}
	resp.State, diags = s.result(resourceType{&Resource{Schema: d.Schema}, d.ty}, "ReadData", v, cty.NullVal(d.ty))
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	return resp
}

func (s *server) Invoke(ctx context.Context, req providers.InvokeRequest) (resp providers.InvokeResponse) {
	defer s.recoverPanic("Invoke", req.Action, &resp.Diagnostics)
	a, diags := s.action(req.Action)
	if diags.HasErrors() {
		return providers.InvokeResponse{Diagnostics: diags}
	}
	ctx, done := s.call(ctx)
	defer done()
	args, diags := validate(ctx, a.args, a.ty, req.Args, nil)
	resp.Diagnostics = diags
	if diags.HasErrors() {
		return resp
	}
	report, finished := progress(req.Progress)
	defer finished()
	res, diags := a.Invoke(ctx, InvokeRequest{Args: args, Progress: report})
	resp.Diagnostics = append(resp.Diagnostics, diags...)
	resp.Result = res
	if res == cty.NilVal || res.IsNull() || a.Schema.Result == cty.NilType {
		return resp
	}
	if !conforms(res.Type(), a.Schema.Result) {
		resp.Result = cty.NilVal
		resp.Diagnostics = append(resp.Diagnostics, providers.Errorf("Provider returned an invalid value",
			"Action %q of provider %q returned a %s where its schema says %s. This is a bug in the provider.",
			req.Action, s.p.Name, res.Type().FriendlyName(), a.Schema.Result.FriendlyName()))
	}
	return resp
}

// Stop ends the contexts of the calls in flight; later calls run normally.
func (s *server) Stop(ctx context.Context, req providers.StopRequest) providers.StopResponse {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	s.stopNow()
	s.stop, s.stopNow = context.WithCancel(context.Background())
	return providers.StopResponse{}
}

func (s *server) Close() error { return nil }
