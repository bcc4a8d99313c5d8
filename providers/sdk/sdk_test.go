package sdk

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

var thingSchema = &schema.Resource{Block: &schema.Block{
	Attributes: map[string]*schema.Attribute{
		"name":   {Type: cty.String, Required: true, ForceNew: true},
		"size":   {Type: cty.Number, Optional: true},
		"tags":   {Type: cty.Map(cty.String), Optional: true},
		"secret": {Type: cty.String, Optional: true, Sensitive: true},
		"id":     {Type: cty.String, Computed: true},
		"length": {Type: cty.Number, Computed: true},
	},
	BlockTypes: map[string]*schema.NestedBlock{
		"rule": {Nesting: schema.NestingList, MaxItems: 2, Block: schema.Block{Attributes: map[string]*schema.Attribute{
			"port": {Type: cty.Number, Required: true},
		}}},
	},
}}

var thingType = thingSchema.Block.ImpliedType()

// store is the "real world" of the test provider's things.
type store struct {
	mu     sync.Mutex
	things map[string]cty.Value
}

func (st *store) provider() *Provider {
	withLength := func(v cty.Value) cty.Value {
		n := cty.UnknownVal(cty.Number)
		if name := v.GetAttr("name"); name.IsKnown() {
			n = cty.NumberIntVal(int64(len(name.AsString())))
		}
		return SetAttrs(v, map[string]cty.Value{"length": n})
	}
	put := func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics) {
		v := SetAttrs(req.Planned, map[string]cty.Value{"id": cty.StringVal("thing-" + req.Planned.GetAttr("name").AsString())})
		st.mu.Lock()
		defer st.mu.Unlock()
		st.things[v.GetAttr("id").AsString()] = v
		req.Progress(providers.Progress{Done: 1, Total: 1, Unit: "things"})
		return v, nil
	}
	read := func(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
		st.mu.Lock()
		defer st.mu.Unlock()
		v, ok := st.things[state.GetAttr("id").AsString()]
		if !ok {
			return cty.NullVal(thingType), nil
		}
		return v, nil
	}
	thing := &Resource{
		Schema: thingSchema,
		Validate: func(ctx context.Context, config cty.Value) providers.Diagnostics {
			if s := config.GetAttr("size"); s.IsKnown() && !s.IsNull() && s.LessThan(cty.Zero).True() {
				return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("size"), "Invalid size", "Size must not be negative.")}
			}
			return nil
		},
		CustomizePlan: func(ctx context.Context, p *Plan) providers.Diagnostics {
			p.Planned = withLength(p.Planned)
			return nil
		},
		Read:   read,
		Create: put,
		Update: put,
		Delete: func(ctx context.Context, req ApplyRequest) providers.Diagnostics {
			st.mu.Lock()
			defer st.mu.Unlock()
			delete(st.things, req.Prior.GetAttr("id").AsString())
			return nil
		},
		Import: func(ctx context.Context, id string) (cty.Value, providers.Diagnostics) {
			attrs := map[string]cty.Value{}
			for name, ty := range thingType.AttributeTypes() {
				attrs[name] = cty.NullVal(ty)
			}
			attrs["id"] = cty.StringVal(id)
			return cty.ObjectVal(attrs), nil
		},
	}
	return &Provider{Name: "test", Resources: map[string]*Resource{"test_thing": thing}}
}

func newTest(t *testing.T) (providers.Provider, *store) {
	st := &store{things: map[string]cty.Value{}}
	return New(st.provider()), st
}

// thing builds a value of thingType from the given attributes, the others
// null (and no rule blocks), as the configuration decoder would.
func thing(attrs map[string]cty.Value) cty.Value {
	out := map[string]cty.Value{}
	for name, ty := range thingType.AttributeTypes() {
		out[name] = cty.NullVal(ty)
	}
	out["rule"] = cty.ListValEmpty(thingType.AttributeType("rule").ElementType())
	for name, v := range attrs {
		out[name] = v
	}
	return cty.ObjectVal(out)
}

func rules(ports ...int64) cty.Value {
	var l []cty.Value
	for _, p := range ports {
		l = append(l, cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(p)}))
	}
	return cty.ListVal(l)
}

// diagSummary renders diagnostics compactly for comparison.
func diagSummary(diags providers.Diagnostics) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary+" @"+pathString(d.Path))
	}
	return out
}

func pathString(p cty.Path) string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			b.WriteString("." + s.Name)
		case cty.IndexStep:
			b.WriteString("[" + s.Key.GoString() + "]")
		}
	}
	return b.String()
}

func TestValidate(t *testing.T) {
	p, _ := newTest(t)
	name := cty.StringVal("a")
	tests := []struct {
		name   string
		config cty.Value
		want   []string
		detail string
	}{
		{"valid", thing(map[string]cty.Value{"name": name, "rule": rules(80)}), nil, ""},
		{"null config", cty.NullVal(thingType), nil, ""},
		{"unknown config", cty.UnknownVal(thingType), nil, ""},
		{"dynamic config", cty.DynamicVal, nil, ""},
		{"unknown values", thing(map[string]cty.Value{"name": cty.UnknownVal(cty.String), "size": cty.UnknownVal(cty.Number),
			"rule": cty.UnknownVal(cty.List(cty.Object(map[string]cty.Type{"port": cty.Number})))}), nil, ""},
		{"attributes left out", cty.ObjectVal(map[string]cty.Value{"name": name}), nil, ""},
		{"misspelt", cty.ObjectVal(map[string]cty.Value{"name": name, "sise": cty.NumberIntVal(1)}),
			[]string{"Unsupported argument @.sise"}, `Did you mean "size"?`},
		{"missing required", thing(nil), []string{"Missing required argument @.name"}, ""},
		{"computed set", thing(map[string]cty.Value{"name": name, "id": cty.StringVal("x")}),
			[]string{"Value for unconfigurable attribute @.id"}, ""},
		{"wrong type", thing(map[string]cty.Value{"name": name, "size": cty.StringVal("big")}),
			[]string{"Incorrect attribute value type @.size"}, ""},
		{"several wrong, in the schema's order", thing(map[string]cty.Value{"id": cty.StringVal("x"), "size": cty.StringVal("big")}),
			[]string{"Value for unconfigurable attribute @.id", "Missing required argument @.name", "Incorrect attribute value type @.size"}, ""},
		{"convertible type", thing(map[string]cty.Value{"name": name, "size": cty.StringVal("12")}), nil, ""},
		{"wrong collection", thing(map[string]cty.Value{"name": name, "tags": cty.StringVal("x")}),
			[]string{"Incorrect attribute value type @.tags"}, ""},
		{"wrong nested type", thing(map[string]cty.Value{"name": name, "rule": cty.TupleVal([]cty.Value{
			cty.ObjectVal(map[string]cty.Value{"port": cty.StringVal("http")})})}),
			[]string{"Incorrect attribute value type @.rule[cty.NumberIntVal(0)].port"}, ""},
		{"nested unknown name", thing(map[string]cty.Value{"name": name, "rule": cty.TupleVal([]cty.Value{
			cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(1), "proto": cty.StringVal("tcp")})})}),
			[]string{"Unsupported argument @.rule[cty.NumberIntVal(0)].proto"}, ""},
		{"too many blocks", thing(map[string]cty.Value{"name": name, "rule": rules(1, 2, 3)}),
			[]string{"Too many blocks @.rule"}, ""},
		{"block not a list", thing(map[string]cty.Value{"name": name, "rule": cty.StringVal("x")}),
			[]string{"Invalid block @.rule"}, ""},
		{"not an object", cty.StringVal("name=a"), []string{"Invalid block @"}, ""},
		{"author's validation", thing(map[string]cty.Value{"name": name, "size": cty.NumberIntVal(-1)}),
			[]string{"Invalid size @.size"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := p.Validate(context.Background(), providers.ValidateRequest{TypeName: "test_thing", Config: tt.config})
			if diff := cmp.Diff(tt.want, diagSummary(resp.Diagnostics)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if tt.detail != "" && (len(resp.Diagnostics) == 0 || !strings.Contains(resp.Diagnostics[0].Detail, tt.detail)) {
				t.Errorf("detail %v does not say %q", resp.Diagnostics, tt.detail)
			}
		})
	}
	t.Run("unknown type", func(t *testing.T) {
		resp := p.Validate(context.Background(), providers.ValidateRequest{TypeName: "test_nope", Config: cty.EmptyObjectVal})
		if diff := cmp.Diff([]string{"Unsupported resource type @"}, diagSummary(resp.Diagnostics)); diff != "" {
			t.Error(diff)
		}
	})
}

func TestPlan(t *testing.T) {
	ctx := context.Background()
	p, _ := newTest(t)
	applied := thing(map[string]cty.Value{"name": cty.StringVal("ab"), "size": cty.NumberIntVal(1),
		"id": cty.StringVal("thing-ab"), "length": cty.NumberIntVal(2)})
	none := cty.NullVal(thingType)
	tests := []struct {
		name        string
		prior       cty.Value
		config      cty.Value
		want        cty.Value
		wantReplace []cty.Path
		wantDiags   []string
	}{
		{"create", none, thing(map[string]cty.Value{"name": cty.StringVal("ab")}),
			thing(map[string]cty.Value{"name": cty.StringVal("ab"), "id": cty.UnknownVal(cty.String), "length": cty.NumberIntVal(2)}), nil, nil},
		{"create from unknown", none, thing(map[string]cty.Value{"name": cty.UnknownVal(cty.String)}),
			thing(map[string]cty.Value{"name": cty.UnknownVal(cty.String), "id": cty.UnknownVal(cty.String), "length": cty.UnknownVal(cty.Number)}), nil, nil},
		{"no change", applied, thing(map[string]cty.Value{"name": cty.StringVal("ab"), "size": cty.NumberIntVal(1)}), applied, nil, nil},
		{"update in place", applied, thing(map[string]cty.Value{"name": cty.StringVal("ab"), "size": cty.NumberIntVal(5)}),
			thing(map[string]cty.Value{"name": cty.StringVal("ab"), "size": cty.NumberIntVal(5), "id": cty.StringVal("thing-ab"), "length": cty.NumberIntVal(2)}), nil, nil},
		{"force new", applied, thing(map[string]cty.Value{"name": cty.StringVal("abc"), "size": cty.NumberIntVal(1)}),
			thing(map[string]cty.Value{"name": cty.StringVal("abc"), "size": cty.NumberIntVal(1), "id": cty.StringVal("thing-ab"), "length": cty.NumberIntVal(3)}),
			[]cty.Path{cty.GetAttrPath("name")}, nil},
		{"force new to unknown", applied, thing(map[string]cty.Value{"name": cty.UnknownVal(cty.String), "size": cty.NumberIntVal(1)}),
			thing(map[string]cty.Value{"name": cty.UnknownVal(cty.String), "size": cty.NumberIntVal(1), "id": cty.StringVal("thing-ab"), "length": cty.UnknownVal(cty.Number)}),
			[]cty.Path{cty.GetAttrPath("name")}, nil},
		{"delete", applied, cty.NullVal(thingType), cty.NullVal(thingType), nil, nil},
		{"invalid config", none, thing(map[string]cty.Value{"name": cty.StringVal("a"), "size": cty.NumberIntVal(-2)}),
			cty.NilVal, nil, []string{"Invalid size @.size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := p.Plan(ctx, providers.PlanRequest{TypeName: "test_thing", Prior: tt.prior, Config: tt.config})
			if diff := cmp.Diff(tt.wantDiags, diagSummary(resp.Diagnostics)); diff != "" {
				t.Fatalf("diagnostics (-want +got):\n%s", diff)
			}
			if !resp.Planned.RawEquals(tt.want) {
				t.Errorf("planned\n%#v\nwant\n%#v", resp.Planned, tt.want)
			}
			if diff := cmp.Diff(tt.wantReplace, resp.RequiresReplace, cmp.Comparer(func(a, b cty.Path) bool { return a.Equals(b) })); diff != "" {
				t.Errorf("requires replace (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanWithoutUpdateReplaces(t *testing.T) {
	st := &store{things: map[string]cty.Value{}}
	prov := st.provider()
	prov.Resources["test_thing"].Update = nil
	p := New(prov)
	applied := thing(map[string]cty.Value{"name": cty.StringVal("ab"), "size": cty.NumberIntVal(1),
		"id": cty.StringVal("thing-ab"), "length": cty.NumberIntVal(2)})
	resp := p.Plan(context.Background(), providers.PlanRequest{TypeName: "test_thing", Prior: applied,
		Config: thing(map[string]cty.Value{"name": cty.StringVal("ab"), "size": cty.NumberIntVal(2)})})
	if len(resp.RequiresReplace) != 1 || !resp.RequiresReplace[0].Equals(cty.GetAttrPath("size")) {
		t.Errorf("requires replace %#v, want [size]", resp.RequiresReplace)
	}
	ar := p.Apply(context.Background(), providers.ApplyRequest{TypeName: "test_thing", Prior: applied, Planned: resp.Planned})
	if diff := cmp.Diff([]string{"Resource cannot be updated in place @"}, diagSummary(ar.Diagnostics)); diff != "" {
		t.Error(diff)
	}
}

// TestPlanDeleteDescribed: a plan with a null configuration (a delete) is
// null, with what DescribeDelete says the delete does, when it is set.
func TestPlanDeleteDescribed(t *testing.T) {
	applied := thing(map[string]cty.Value{"name": cty.StringVal("ab"), "size": cty.NumberIntVal(1),
		"id": cty.StringVal("thing-ab"), "length": cty.NumberIntVal(2)})
	for _, tc := range []struct {
		name     string
		describe func(context.Context, cty.Value) (string, providers.Diagnostics)
		want     string
	}{
		{"not set", nil, ""},
		{"set", func(ctx context.Context, prior cty.Value) (string, providers.Diagnostics) {
			return "deletes " + prior.GetAttr("id").AsString(), nil
		}, "deletes thing-ab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &store{things: map[string]cty.Value{}}
			prov := st.provider()
			prov.Resources["test_thing"].DescribeDelete = tc.describe
			resp := New(prov).Plan(context.Background(), providers.PlanRequest{TypeName: "test_thing", Prior: applied,
				Config: cty.NullVal(applied.Type())})
			if resp.Diagnostics.HasErrors() || !resp.Planned.IsNull() || resp.Description != tc.want {
				t.Errorf("plan of a delete: planned %#v, description %q, %v; want null, %q", resp.Planned, resp.Description, resp.Diagnostics, tc.want)
			}
		})
	}
}

func TestApplyLifecycle(t *testing.T) {
	ctx := context.Background()
	p, st := newTest(t)
	none := cty.NullVal(thingType)
	config := thing(map[string]cty.Value{"name": cty.StringVal("ab"), "rule": rules(22)})
	plan := p.Plan(ctx, providers.PlanRequest{TypeName: "test_thing", Prior: none, Config: config})
	var events []providers.Progress
	resp := p.Apply(ctx, providers.ApplyRequest{TypeName: "test_thing", Prior: none, Planned: plan.Planned,
		Progress: func(pr providers.Progress) { events = append(events, pr) }})
	if resp.Diagnostics.HasErrors() {
		t.Fatal(resp.Diagnostics)
	}
	if got := resp.New.GetAttr("id"); !got.RawEquals(cty.StringVal("thing-ab")) {
		t.Errorf("id %#v", got)
	}
	if len(events) != 1 || events[0].Unit != "things" {
		t.Errorf("progress events %v", events)
	}
	read := p.Read(ctx, providers.ReadRequest{TypeName: "test_thing", Prior: resp.New})
	if !read.New.RawEquals(resp.New) {
		t.Errorf("read %#v, want %#v", read.New, resp.New)
	}
	again := p.Plan(ctx, providers.PlanRequest{TypeName: "test_thing", Prior: read.New, Config: config})
	if !again.Planned.RawEquals(read.New) || len(again.RequiresReplace) != 0 {
		t.Errorf("second plan is not a no-op: %#v %v", again.Planned, again.RequiresReplace)
	}

	imp := p.Import(ctx, providers.ImportRequest{TypeName: "test_thing", ID: "thing-ab"})
	if imp.Diagnostics.HasErrors() || len(imp.Imported) != 1 || !imp.Imported[0].State.RawEquals(resp.New) {
		t.Errorf("import: %v %#v", imp.Diagnostics, imp.Imported)
	}
	missing := p.Import(ctx, providers.ImportRequest{TypeName: "test_thing", ID: "thing-zz"})
	if diff := cmp.Diff([]string{"Cannot import a missing object @"}, diagSummary(missing.Diagnostics)); diff != "" {
		t.Error(diff)
	}

	del := p.Apply(ctx, providers.ApplyRequest{TypeName: "test_thing", Prior: resp.New, Planned: none})
	if del.Diagnostics.HasErrors() || !del.New.IsNull() {
		t.Fatalf("delete: %v %#v", del.Diagnostics, del.New)
	}
	if len(st.things) != 0 {
		t.Errorf("things left: %v", st.things)
	}
	gone := p.Read(ctx, providers.ReadRequest{TypeName: "test_thing", Prior: resp.New})
	if gone.Diagnostics.HasErrors() || !gone.New.IsNull() {
		t.Errorf("read after delete: %v %#v", gone.Diagnostics, gone.New)
	}
}

// TestPriorOfAnOlderSchema reads and plans a state value written before the
// schema gained "size" and "tags" and lost "color": the state of a provider
// upgraded in place must still read, computed attributes included.
func TestPriorOfAnOlderSchema(t *testing.T) {
	ctx := context.Background()
	st := &store{things: map[string]cty.Value{}}
	p := New(st.provider())
	current := thing(map[string]cty.Value{"name": cty.StringVal("ab"), "id": cty.StringVal("thing-ab"), "length": cty.NumberIntVal(2)})
	st.things["thing-ab"] = current
	old := cty.ObjectVal(map[string]cty.Value{
		"name": cty.StringVal("ab"), "id": cty.StringVal("thing-ab"), "length": cty.NumberIntVal(2),
		"secret": cty.NullVal(cty.String), "color": cty.StringVal("red"),
		"rule": cty.ListValEmpty(cty.Object(map[string]cty.Type{"port": cty.Number})),
	})
	read := p.Read(ctx, providers.ReadRequest{TypeName: "test_thing", Prior: old})
	if read.Diagnostics.HasErrors() || !read.New.RawEquals(current) {
		t.Fatalf("read of an older state: %v, %#v", read.Diagnostics, read.New)
	}
	config := thing(map[string]cty.Value{"name": cty.StringVal("ab")})
	plan := p.Plan(ctx, providers.PlanRequest{TypeName: "test_thing", Prior: old, Config: config})
	if plan.Diagnostics.HasErrors() {
		t.Fatalf("plan over an older state: %v", plan.Diagnostics)
	}
}

func TestAuthorMistakes(t *testing.T) {
	ctx := context.Background()
	planned := thing(map[string]cty.Value{"name": cty.StringVal("ab"), "id": cty.UnknownVal(cty.String), "length": cty.NumberIntVal(2)})
	tests := []struct {
		name   string
		create func(context.Context, ApplyRequest) (cty.Value, providers.Diagnostics)
		want   string
	}{
		{"unknown result", func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics) {
			return req.Planned, nil
		}, "Provider returned unknown values"},
		{"wrong type", func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics) {
			return cty.StringVal("done"), nil
		}, "Invalid value"},
		{"no object", func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics) {
			return cty.NullVal(thingType), nil
		}, "Provider returned no object"},
		{"panic", func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics) {
			var m map[string]int
			//lint:ignore SA5000 the panic is what this case tests
			m["x"]++
			return req.Planned, nil
		}, PanicSummary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &store{things: map[string]cty.Value{}}
			prov := st.provider()
			prov.Resources["test_thing"].Create = tt.create
			resp := New(prov).Apply(ctx, providers.ApplyRequest{TypeName: "test_thing", Prior: cty.NullVal(thingType), Planned: planned})
			if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Summary != tt.want {
				t.Fatalf("diagnostics %v, want %q first", resp.Diagnostics, tt.want)
			}
			if tt.want == PanicSummary && !strings.Contains(resp.Diagnostics[0].Detail, `Apply of "test_thing"`) {
				t.Errorf("the panic diagnostic does not say where: %s", resp.Diagnostics[0].Detail)
			}
		})
	}
}

func TestStop(t *testing.T) {
	st := &store{things: map[string]cty.Value{}}
	prov := st.provider()
	started := make(chan struct{})
	prov.Resources["test_thing"].Create = func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics) {
		close(started)
		<-ctx.Done()
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Stopped", "%v", ctx.Err())}
	}
	p := New(prov)
	planned := thing(map[string]cty.Value{"name": cty.StringVal("ab"), "id": cty.UnknownVal(cty.String), "length": cty.NumberIntVal(2)})
	done := make(chan providers.ApplyResponse)
	go func() {
		done <- p.Apply(context.Background(), providers.ApplyRequest{TypeName: "test_thing", Prior: cty.NullVal(thingType), Planned: planned})
	}()
	<-started
	p.Stop(context.Background(), providers.StopRequest{})
	select {
	case resp := <-done:
		if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary != "Stopped" || !resp.New.IsNull() {
			t.Errorf("after Stop: %v %#v", resp.Diagnostics, resp.New)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not end the call")
	}
	// Calls after Stop run normally.
	if r := p.Read(context.Background(), providers.ReadRequest{TypeName: "test_thing", Prior: cty.NullVal(thingType)}); r.Diagnostics.HasErrors() {
		t.Error(r.Diagnostics)
	}
}

func TestProgressAfterReturnIsDropped(t *testing.T) {
	st := &store{things: map[string]cty.Value{}}
	prov := st.provider()
	var kept func(providers.Progress)
	create := prov.Resources["test_thing"].Create
	prov.Resources["test_thing"].Create = func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics) {
		kept = req.Progress
		return create(ctx, req)
	}
	n := 0
	planned := thing(map[string]cty.Value{"name": cty.StringVal("ab"), "id": cty.UnknownVal(cty.String), "length": cty.NumberIntVal(2)})
	New(prov).Apply(context.Background(), providers.ApplyRequest{TypeName: "test_thing", Prior: cty.NullVal(thingType), Planned: planned,
		Progress: func(providers.Progress) { n++ }})
	kept(providers.Progress{Done: 2})
	if n != 1 {
		t.Errorf("%d progress calls reached the caller, want 1", n)
	}
}

func TestDataAndActions(t *testing.T) {
	ctx := context.Background()
	block := &schema.Block{Attributes: map[string]*schema.Attribute{
		"name":  {Type: cty.String, Required: true},
		"upper": {Type: cty.String, Computed: true},
	}}
	upper := func(v cty.Value) cty.Value {
		return SetAttrs(v, map[string]cty.Value{"upper": cty.StringVal(strings.ToUpper(v.GetAttr("name").AsString()))})
	}
	p := New(&Provider{
		Name: "test",
		DataSources: map[string]*DataSource{"test_upper": {
			Schema: &schema.Resource{Block: block},
			Read: func(ctx context.Context, config cty.Value) (cty.Value, providers.Diagnostics) {
				return upper(config), nil
			},
		}},
		Actions: map[string]*Action{"shout": {
			Schema: &schema.Action{Args: &schema.Block{Attributes: map[string]*schema.Attribute{
				"text": {Type: cty.String, Required: true},
			}}, Result: cty.String},
			Invoke: func(ctx context.Context, req InvokeRequest) (cty.Value, providers.Diagnostics) {
				req.Progress(providers.Progress{Message: "shouting"})
				return cty.StringVal(strings.ToUpper(req.Args.GetAttr("text").AsString()) + "!"), nil
			},
		}},
	})
	config := cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("ab"), "upper": cty.NullVal(cty.String)})
	rd := p.ReadData(ctx, providers.ReadDataRequest{TypeName: "test_upper", Config: config})
	if rd.Diagnostics.HasErrors() || rd.State.GetAttr("upper").AsString() != "AB" {
		t.Errorf("ReadData: %v %#v", rd.Diagnostics, rd.State)
	}
	unknown := cty.ObjectVal(map[string]cty.Value{"name": cty.UnknownVal(cty.String), "upper": cty.NullVal(cty.String)})
	if rd := p.ReadData(ctx, providers.ReadDataRequest{TypeName: "test_upper", Config: unknown}); !rd.Diagnostics.HasErrors() {
		t.Error("ReadData with unknown config gave no error")
	}
	var msgs []string
	inv := p.Invoke(ctx, providers.InvokeRequest{Action: "shout", Args: cty.ObjectVal(map[string]cty.Value{"text": cty.StringVal("hey")}),
		Progress: func(pr providers.Progress) { msgs = append(msgs, pr.Message) }})
	if inv.Diagnostics.HasErrors() || inv.Result.AsString() != "HEY!" || len(msgs) != 1 {
		t.Errorf("Invoke: %v %#v %v", inv.Diagnostics, inv.Result, msgs)
	}
	bad := p.Invoke(ctx, providers.InvokeRequest{Action: "shout", Args: cty.ObjectVal(map[string]cty.Value{"txt": cty.StringVal("hey")})})
	if diff := cmp.Diff([]string{"Unsupported argument @.txt", "Missing required argument @.text"}, diagSummary(bad.Diagnostics)); diff != "" {
		t.Error(diff)
	}
	if v := p.Validate(ctx, providers.ValidateRequest{Kind: providers.KindAction, TypeName: "whisper"}); !v.Diagnostics.HasErrors() {
		t.Error("validating an unknown action gave no error")
	}
}
