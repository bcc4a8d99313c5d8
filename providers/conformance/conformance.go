package conformance

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// Case is one resource type exercised by Run.
type Case struct {
	// Name names the subtest; TypeName when empty.
	Name     string
	TypeName string
	// Config is a valid configuration. Attributes and blocks left out are
	// null (no blocks), as when the configuration does not set them.
	Config cty.Value
	// Update, when not cty.NilVal, is a second valid configuration that
	// plans a change from Config (in place or by replacement).
	Update cty.Value
	// ImportID, when set, names the object the case created; importing it
	// and planning with the last configuration must show no change.
	ImportID string
	// External says the object lives outside Drover's state (a file, a
	// disk): after a delete, Read must report it gone.
	External bool
}

// Run starts a provider with f and runs every check against it.
func Run(t *testing.T, f providers.Factory, cases []Case) {
	t.Helper()
	p, err := f()
	if err != nil {
		t.Fatalf("starting the provider: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	ctx := t.Context()

	var sr providers.SchemaResponse
	guard(t, "Schema", func() { sr = p.Schema(ctx, providers.SchemaRequest{}) })
	requireNoErrors(t, "Schema", sr.Diagnostics)
	if sr.Schema == nil {
		t.Fatal("Schema returned no schema")
	}
	t.Run("schema", func(t *testing.T) {
		for _, problem := range checkProvider(sr.Schema) {
			t.Error(problem)
		}
	})
	cfg := cty.NullVal(cty.EmptyObject)
	if sr.Schema.Config != nil {
		cfg = cty.NullVal(sr.Schema.Config.ImpliedType())
	}
	var cr providers.ConfigureResponse
	guard(t, "Configure", func() { cr = p.Configure(ctx, providers.ConfigureRequest{Config: cfg, Parallelism: 10}) })
	requireNoErrors(t, "Configure", cr.Diagnostics)

	for _, c := range cases {
		name := c.Name
		if name == "" {
			name = c.TypeName
		}
		t.Run(name, func(t *testing.T) {
			rs := sr.Schema.ResourceTypes[c.TypeName]
			if rs == nil || rs.Block == nil {
				t.Fatalf("the schema has no resource type %q", c.TypeName)
			}
			r := &runner{t: t, ctx: t.Context(), p: p, c: c, block: rs.Block, ty: rs.Block.ImpliedType()}
			r.run()
		})
	}
}

type runner struct {
	t     *testing.T
	ctx   context.Context
	p     providers.Provider
	c     Case
	block *schema.Block
	ty    cty.Type
}

func (r *runner) run() {
	t := r.t
	config := r.complete("Config", r.c.Config)
	t.Run("invalid config", func(t *testing.T) { r.invalidConfig(t, config) })
	t.Run("null and unknown values", func(t *testing.T) { r.nullAndUnknown(t, config) })

	state := r.create(config)
	last := config
	if r.c.Update != cty.NilVal {
		last = r.complete("Update", r.c.Update)
		state = r.update(state, last)
	}
	if r.c.ImportID != "" {
		r.importRoundTrip(last)
	}
	r.destroy(state)
}

// complete fills in what a configuration leaves out, as the decoder would.
func (r *runner) complete(what string, v cty.Value) cty.Value {
	r.t.Helper()
	out, err := completeBlock(r.block, v)
	if err != nil {
		r.t.Fatalf("case %s: %v", what, err)
	}
	if errs := out.Type().TestConformance(r.ty); len(errs) > 0 {
		r.t.Fatalf("case %s does not match the schema: %v", what, errs[0])
	}
	return out
}

func completeBlock(b *schema.Block, v cty.Value) (cty.Value, error) {
	if v == cty.NilVal || v.IsNull() || !v.Type().IsObjectType() {
		return cty.NilVal, fmt.Errorf("the configuration must be an object")
	}
	attrs := v.AsValueMap()
	if attrs == nil {
		attrs = map[string]cty.Value{}
	}
	for name, a := range b.Attributes {
		if _, ok := attrs[name]; !ok {
			attrs[name] = cty.NullVal(a.Type)
		}
	}
	for name, nb := range b.BlockTypes {
		if _, ok := attrs[name]; ok {
			continue
		}
		ety := nb.Block.ImpliedType()
		switch nb.Nesting {
		case schema.NestingSingle:
			attrs[name] = cty.NullVal(ety)
		case schema.NestingList:
			attrs[name] = cty.ListValEmpty(ety)
		case schema.NestingSet:
			attrs[name] = cty.SetValEmpty(ety)
		case schema.NestingMap:
			attrs[name] = cty.MapValEmpty(ety)
		}
	}
	return cty.ObjectVal(attrs), nil
}

func (r *runner) plan(step string, prior, config cty.Value) providers.PlanResponse {
	r.t.Helper()
	var resp providers.PlanResponse
	guard(r.t, step, func() {
		resp = r.p.Plan(r.ctx, providers.PlanRequest{TypeName: r.c.TypeName, Prior: prior,
			Proposed: r.block.ProposedNew(prior, config), Config: config})
	})
	requireNoErrors(r.t, step, resp.Diagnostics)
	checkPlanned(r.t, step, r.block, r.ty, config, resp.Planned)
	return resp
}

func (r *runner) apply(step string, prior, planned cty.Value) cty.Value {
	r.t.Helper()
	var resp providers.ApplyResponse
	guard(r.t, step, func() {
		resp = r.p.Apply(r.ctx, providers.ApplyRequest{TypeName: r.c.TypeName, Prior: prior, Planned: planned})
	})
	requireNoErrors(r.t, step, resp.Diagnostics)
	if planned.IsNull() {
		return cty.NullVal(r.ty)
	}
	v := resp.New
	switch {
	case v == cty.NilVal || v.IsNull():
		r.t.Fatalf("%s: apply returned no object", step)
	case !v.IsWhollyKnown():
		r.t.Fatalf("%s: apply left unknown values: %#v", step, v)
	case len(v.Type().TestConformance(r.ty)) > 0:
		r.t.Fatalf("%s: apply returned a value that does not match the schema: %v", step, v.Type().TestConformance(r.ty)[0])
	}
	if msg := contradicts(planned, v); msg != "" {
		r.t.Fatalf("%s: %s", step, msg)
	}
	return v
}

func (r *runner) read(step string, prior cty.Value) cty.Value {
	r.t.Helper()
	var resp providers.ReadResponse
	guard(r.t, step, func() { resp = r.p.Read(r.ctx, providers.ReadRequest{TypeName: r.c.TypeName, Prior: prior}) })
	requireNoErrors(r.t, step, resp.Diagnostics)
	if resp.New == cty.NilVal {
		r.t.Fatalf("%s: Read returned no value at all (a gone object is a null value)", step)
	}
	return resp.New
}

// settle reads state back, checks it equals what apply returned, and plans
// config again, which must show no change.
func (r *runner) settle(step string, applied, config cty.Value) cty.Value {
	r.t.Helper()
	read := r.read(step+": read after apply", applied)
	if !read.RawEquals(applied) {
		r.t.Fatalf("%s: read after apply differs from what apply returned:\nread    %#v\napplied %#v", step, read, applied)
	}
	again := r.plan(step+": plan again", read, config)
	if !again.Planned.RawEquals(read) {
		r.t.Fatalf("%s: planning the applied configuration again is not a no-op:\nplanned %#v\nprior   %#v", step, again.Planned, read)
	}
	return read
}

func (r *runner) create(config cty.Value) cty.Value {
	none := cty.NullVal(r.ty)
	planned := r.plan("plan create", none, config)
	applied := r.apply("apply create", none, planned.Planned)
	return r.settle("create", applied, config)
}

func (r *runner) update(prior, config cty.Value) cty.Value {
	resp := r.plan("plan update", prior, config)
	if resp.Planned.RawEquals(prior) {
		r.t.Fatal("plan update: the Update configuration plans no change from Config; make it change something")
	}
	var applied cty.Value
	if replaceNeeded(prior, resp.Planned, resp.RequiresReplace) {
		r.apply("apply delete for replace", prior, cty.NullVal(r.ty))
		none := cty.NullVal(r.ty)
		replanned := r.plan("plan create for replace", none, config)
		applied = r.apply("apply create for replace", none, replanned.Planned)
	} else {
		applied = r.apply("apply update", prior, resp.Planned)
	}
	return r.settle("update", applied, config)
}

func replaceNeeded(prior, planned cty.Value, paths []cty.Path) bool {
	for _, p := range paths {
		b, errB := p.Apply(prior)
		a, errA := p.Apply(planned)
		if (errB != nil) != (errA != nil) || (errB == nil && !b.RawEquals(a)) {
			return true
		}
	}
	return false
}

func (r *runner) importRoundTrip(config cty.Value) {
	t := r.t
	var resp providers.ImportResponse
	guard(t, "import", func() { resp = r.p.Import(r.ctx, providers.ImportRequest{TypeName: r.c.TypeName, ID: r.c.ImportID}) })
	requireNoErrors(t, "import", resp.Diagnostics)
	var imported cty.Value
	for _, ir := range resp.Imported {
		if ir.TypeName == r.c.TypeName {
			imported = ir.State
			break
		}
	}
	if imported == cty.NilVal || imported.IsNull() {
		t.Fatalf("import of %q returned no %s", r.c.ImportID, r.c.TypeName)
	}
	if errs := imported.Type().TestConformance(r.ty); len(errs) > 0 {
		t.Fatalf("import returned a value that does not match the schema: %v", errs[0])
	}
	read := r.read("read after import", imported)
	if read.IsNull() {
		t.Fatal("read after import: the imported object is gone")
	}
	again := r.plan("plan after import", read, config)
	if !again.Planned.RawEquals(read) {
		t.Fatalf("planning after import is not a no-op:\nplanned  %#v\nimported %#v", again.Planned, read)
	}
}

func (r *runner) destroy(state cty.Value) {
	none := cty.NullVal(r.ty)
	r.apply("apply delete", state, none)
	r.apply("apply delete again (an interrupted apply retries)", state, none)
	if r.c.External {
		if v := r.read("read after delete", state); !v.IsNull() {
			r.t.Fatalf("read after delete: the object still exists: %#v", v)
		}
	}
}

// invalidConfig checks that an unknown argument and each wrongly typed
// argument give an error diagnostic naming the attribute.
func (r *runner) invalidConfig(t *testing.T, config cty.Value) {
	type bad struct {
		what   string
		path   cty.Path
		config cty.Value
	}
	attrs := config.AsValueMap()
	extra := map[string]cty.Value{"not_an_argument_of_" + r.c.TypeName: cty.StringVal("x")}
	for k, v := range attrs {
		extra[k] = v
	}
	cases := []bad{{"unknown argument", cty.GetAttrPath("not_an_argument_of_" + r.c.TypeName), cty.ObjectVal(extra)}}
	for _, name := range sortedNames(r.block.Attributes) {
		a := r.block.Attributes[name]
		wrong, ok := wrongValue(a.Type)
		if !ok || !(a.Required || a.Optional) {
			continue
		}
		m := config.AsValueMap()
		m[name] = wrong
		cases = append(cases, bad{"wrong type for " + name, cty.GetAttrPath(name), cty.ObjectVal(m)})
	}
	for _, b := range cases {
		t.Run(b.what, func(t *testing.T) {
			var resp providers.ValidateResponse
			guard(t, "Validate", func() {
				resp = r.p.Validate(r.ctx, providers.ValidateRequest{Kind: providers.KindResource, TypeName: r.c.TypeName, Config: b.config})
			})
			noPanic(t, "Validate", resp.Diagnostics)
			found := false
			for _, d := range resp.Diagnostics {
				found = found || d.Severity == providers.Error && d.Path.Equals(b.path)
			}
			if !found {
				t.Errorf("Validate gave no error about %s; diagnostics: %s", pathString(b.path), render(resp.Diagnostics))
			}
			var pr providers.PlanResponse
			guard(t, "Plan", func() {
				pr = r.p.Plan(r.ctx, providers.PlanRequest{TypeName: r.c.TypeName, Prior: cty.NullVal(r.ty), Config: b.config})
			})
			noPanic(t, "Plan", pr.Diagnostics)
		})
	}
}

// wrongValue is a value that no conversion turns into ty.
func wrongValue(ty cty.Type) (cty.Value, bool) {
	switch {
	case ty == cty.DynamicPseudoType:
		return cty.NilVal, false
	case ty == cty.String:
		return cty.EmptyObjectVal, true
	case ty == cty.Number:
		return cty.StringVal("not a number"), true
	case ty == cty.Bool:
		return cty.StringVal("not a bool"), true
	default:
		return cty.StringVal("not a " + ty.FriendlyName()), true
	}
}

// nullAndUnknown checks that null or unknown values, whole or per
// argument, never crash Validate or Plan, and that unknown arguments are no
// error: they stand for values not known before apply.
func (r *runner) nullAndUnknown(t *testing.T, config cty.Value) {
	for _, v := range []cty.Value{cty.NullVal(r.ty), cty.UnknownVal(r.ty), cty.DynamicVal} {
		var resp providers.ValidateResponse
		guard(t, "Validate", func() {
			resp = r.p.Validate(r.ctx, providers.ValidateRequest{Kind: providers.KindResource, TypeName: r.c.TypeName, Config: v})
		})
		noPanic(t, fmt.Sprintf("Validate(%#v)", v), resp.Diagnostics)
	}
	none := cty.NullVal(r.ty)
	for _, name := range sortedNames(r.block.Attributes) {
		a := r.block.Attributes[name]
		if !(a.Required || a.Optional) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			m := config.AsValueMap()
			m[name] = cty.UnknownVal(a.Type)
			unknown := cty.ObjectVal(m)
			var vr providers.ValidateResponse
			guard(t, "Validate", func() {
				vr = r.p.Validate(r.ctx, providers.ValidateRequest{Kind: providers.KindResource, TypeName: r.c.TypeName, Config: unknown})
			})
			if vr.Diagnostics.HasErrors() {
				t.Errorf("Validate with %s unknown: %s", name, render(vr.Diagnostics))
			}
			var pr providers.PlanResponse
			guard(t, "Plan", func() {
				pr = r.p.Plan(r.ctx, providers.PlanRequest{TypeName: r.c.TypeName, Prior: none,
					Proposed: r.block.ProposedNew(none, unknown), Config: unknown})
			})
			if pr.Diagnostics.HasErrors() {
				t.Errorf("Plan with %s unknown: %s", name, render(pr.Diagnostics))
			} else {
				checkPlanned(t, "Plan with "+name+" unknown", r.block, r.ty, unknown, pr.Planned)
			}

			m[name] = cty.NullVal(a.Type)
			null := cty.ObjectVal(m)
			guard(t, "Validate", func() {
				vr = r.p.Validate(r.ctx, providers.ValidateRequest{Kind: providers.KindResource, TypeName: r.c.TypeName, Config: null})
			})
			noPanic(t, "Validate with "+name+" null", vr.Diagnostics)
			guard(t, "Plan", func() {
				pr = r.p.Plan(r.ctx, providers.PlanRequest{TypeName: r.c.TypeName, Prior: none,
					Proposed: r.block.ProposedNew(none, null), Config: null})
			})
			noPanic(t, "Plan with "+name+" null", pr.Diagnostics)
		})
	}
}

// checkPlanned checks a planned value against its configuration: of the
// schema's type, and every argument the configuration sets planned as set.
func checkPlanned(t *testing.T, step string, b *schema.Block, ty cty.Type, config, planned cty.Value) {
	t.Helper()
	if planned == cty.NilVal || planned.IsNull() {
		t.Fatalf("%s: no planned value", step)
	}
	if errs := planned.Type().TestConformance(ty); len(errs) > 0 {
		t.Fatalf("%s: the planned value does not match the schema: %v", step, errs[0])
	}
	for _, name := range sortedNames(b.Attributes) {
		a := b.Attributes[name]
		cv, pv := config.GetAttr(name), planned.GetAttr(name)
		switch {
		case !(a.Required || a.Optional):
		case !cv.IsNull() && !pv.RawEquals(cv):
			t.Errorf("%s: %s is planned as %#v but configured as %#v", step, name, pv, cv)
		case cv.IsNull() && !a.Computed && !pv.IsNull():
			t.Errorf("%s: %s is not configured, not computed, yet planned as %#v", step, name, pv)
		}
	}
}

// contradicts reports how applied differs from a value known in planned.
func contradicts(planned, applied cty.Value) string {
	var msg string
	cty.Walk(planned, func(p cty.Path, pv cty.Value) (bool, error) {
		if msg != "" || !pv.IsKnown() {
			return false, nil
		}
		if pv.IsNull() || pv.Type().IsPrimitiveType() {
			if av, err := p.Apply(applied); err != nil || !av.RawEquals(pv) {
				msg = fmt.Sprintf("%s was planned as %#v but apply returned %#v", pathString(p), pv, av)
			}
			return false, nil
		}
		return true, nil
	})
	return msg
}

// guard runs f, failing the test if it panics (an in-process provider).
func guard(t *testing.T, step string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", step, r)
		}
	}()
	f()
}

func requireNoErrors(t *testing.T, step string, diags providers.Diagnostics) {
	t.Helper()
	if diags.HasErrors() {
		t.Fatalf("%s: %s", step, render(diags))
	}
}

func noPanic(t *testing.T, step string, diags providers.Diagnostics) {
	t.Helper()
	for _, d := range diags {
		if d.Summary == sdk.PanicSummary {
			t.Errorf("%s crashed the provider: %s", step, d.Detail)
		}
	}
}

func render(diags providers.Diagnostics) string {
	if len(diags) == 0 {
		return "none"
	}
	var parts []string
	for _, d := range diags {
		s := d.Summary + ": " + d.Detail
		if len(d.Path) > 0 {
			s = pathString(d.Path) + ": " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func pathString(p cty.Path) string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		case cty.IndexStep:
			fmt.Fprintf(&b, "[%#v]", s.Key)
		}
	}
	return b.String()
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
