package sdk_test

import (
	"context"
	"fmt"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// greet fills in the computed text of a greeting: known when the name is.
func greet(v cty.Value) cty.Value {
	text := cty.UnknownVal(cty.String)
	if name := v.GetAttr("name"); name.IsKnown() {
		text = cty.StringVal("Hello, " + name.AsString() + "!")
	}
	return sdk.SetAttrs(v, map[string]cty.Value{"text": text})
}

// A provider with one resource type, hello_greeting, that holds a name and
// computes a greeting. A plugin's main function is then only
//
//	func main() { sdk.Serve(helloProvider) }
func Example() {
	helloProvider := &sdk.Provider{
		Name: "hello",
		Resources: map[string]*sdk.Resource{
			"hello_greeting": {
				Schema: &schema.Resource{Block: &schema.Block{Attributes: map[string]*schema.Attribute{
					"name": {Type: cty.String, Required: true, Description: "Who to greet."},
					"text": {Type: cty.String, Computed: true, Description: "The greeting."},
				}}},
				CustomizePlan: func(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
					p.Planned = greet(p.Planned)
					return nil
				},
				Create: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
					return greet(req.Planned), nil
				},
				Update: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
					return greet(req.Planned), nil
				},
			},
		},
	}

	// In process, the provider is used through the same contract the core
	// uses for a plugin.
	ctx := context.Background()
	p := sdk.New(helloProvider)
	config := cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("Ada"), "text": cty.NullVal(cty.String)})
	none := cty.NullVal(config.Type())
	planned := p.Plan(ctx, providers.PlanRequest{TypeName: "hello_greeting", Prior: none, Config: config})
	applied := p.Apply(ctx, providers.ApplyRequest{TypeName: "hello_greeting", Prior: none, Planned: planned.Planned})
	fmt.Println(applied.New.GetAttr("text").AsString())

	config = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("Grace"), "text": cty.NullVal(cty.String)})
	replanned := p.Plan(ctx, providers.PlanRequest{TypeName: "hello_greeting", Prior: applied.New, Config: config})
	fmt.Println(replanned.Planned.GetAttr("text").AsString(), len(replanned.RequiresReplace) > 0)
	// Output:
	// Hello, Ada!
	// Hello, Grace! false
}
