package core

import (
	"regexp"
	"testing"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func valueConfig(input, triggers cty.Value) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"input": input, "triggers_replace": triggers,
		"output": cty.NullVal(cty.DynamicPseudoType), "id": cty.NullVal(cty.String),
	})
}

func TestValue(t *testing.T) {
	ctx := t.Context()
	p := sdk.New(New())
	none := cty.NullVal(valueSchema.Block.ImpliedType())
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

	unknown := p.Plan(ctx, providers.PlanRequest{TypeName: "value", Prior: none,
		Config: valueConfig(cty.UnknownVal(cty.String), cty.NullVal(cty.DynamicPseudoType))})
	if out := unknown.Planned.GetAttr("output"); out.IsKnown() || !out.Type().Equals(cty.String) {
		t.Errorf("output of an unknown string input planned as %#v", out)
	}

	config := valueConfig(cty.ListVal([]cty.Value{cty.StringVal("a")}), cty.StringVal("v1"))
	plan := p.Plan(ctx, providers.PlanRequest{TypeName: "value", Prior: none, Config: config})
	if !plan.Planned.GetAttr("output").RawEquals(config.GetAttr("input")) || plan.Planned.GetAttr("id").IsKnown() {
		t.Errorf("create planned %#v", plan.Planned)
	}
	first := p.Apply(ctx, providers.ApplyRequest{TypeName: "value", Prior: none, Planned: plan.Planned}).New
	second := p.Apply(ctx, providers.ApplyRequest{TypeName: "value", Prior: none, Planned: plan.Planned}).New
	id1, id2 := first.GetAttr("id").AsString(), second.GetAttr("id").AsString()
	if !uuid.MatchString(id1) || id1 == id2 {
		t.Errorf("ids %q and %q: want two different UUIDs", id1, id2)
	}

	replace := p.Plan(ctx, providers.PlanRequest{TypeName: "value", Prior: first,
		Config: valueConfig(config.GetAttr("input"), cty.StringVal("v2"))})
	if len(replace.RequiresReplace) != 1 || !replace.RequiresReplace[0].Equals(cty.GetAttrPath("triggers_replace")) {
		t.Errorf("requires replace %#v", replace.RequiresReplace)
	}
	update := p.Plan(ctx, providers.PlanRequest{TypeName: "value", Prior: first,
		Config: valueConfig(cty.NumberIntVal(3), cty.StringVal("v1"))})
	if len(update.RequiresReplace) != 0 || !update.Planned.GetAttr("output").RawEquals(cty.NumberIntVal(3)) ||
		!update.Planned.GetAttr("id").RawEquals(first.GetAttr("id")) {
		t.Errorf("update planned %#v, replace %v", update.Planned, update.RequiresReplace)
	}
}

// BenchmarkValue measures one plan and one apply of a value resource in
// process, the provider's share of every resource in the core benchmark.
func BenchmarkValue(b *testing.B) {
	ctx := b.Context()
	p := sdk.New(New())
	none := cty.NullVal(valueSchema.Block.ImpliedType())
	config := valueConfig(cty.StringVal("x"), cty.NullVal(cty.DynamicPseudoType))
	// The planner computes the proposed value; it is not the provider's cost.
	proposed := valueSchema.Block.ProposedNew(none, config)
	b.ReportAllocs()
	for b.Loop() {
		plan := p.Plan(ctx, providers.PlanRequest{TypeName: "value", Prior: none, Proposed: proposed, Config: config})
		p.Apply(ctx, providers.ApplyRequest{TypeName: "value", Prior: none, Planned: plan.Planned})
	}
}
