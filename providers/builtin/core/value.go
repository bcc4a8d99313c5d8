package core

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

var valueSchema = &schema.Resource{
	Description: "Holds a value in state and exposes it again as output; changing triggers_replace replaces it. Drover's counterpart of OpenTofu's terraform_data.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"input": {Type: cty.DynamicPseudoType, Optional: true,
			Description: "Any value; copied to output. Changing it updates the resource in place."},
		"output": {Type: cty.DynamicPseudoType, Computed: true,
			Description: "The input, known at plan time whenever the input is."},
		"triggers_replace": {Type: cty.DynamicPseudoType, Optional: true, ForceNew: true,
			Description: "Any value; a change replaces the resource (and so whatever is replaced with it)."},
		"id": {Type: cty.String, Computed: true,
			Description: "A random identifier chosen when the resource is created."},
	}},
}

func valueResource() *sdk.Resource {
	return &sdk.Resource{
		Schema: valueSchema,
		CustomizePlan: func(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
			p.Planned = withOutput(p.Planned, p.Planned.GetAttr("id"))
			return nil
		},
		Create: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
			return withOutput(req.Planned, cty.StringVal(newID())), nil
		},
		Update: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
			return withOutput(req.Planned, req.Planned.GetAttr("id")), nil
		},
	}
}

// withOutput sets output to input, or to an unknown of input's type when
// the input is not wholly known yet, and sets id.
func withOutput(v, id cty.Value) cty.Value {
	in := v.GetAttr("input")
	out := in
	if !in.IsWhollyKnown() {
		out = cty.UnknownVal(in.Type())
	}
	return sdk.SetAttrs(v, map[string]cty.Value{"output": out, "id": id})
}

// newID returns a random UUID (version 4).
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
