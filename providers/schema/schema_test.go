package schema

import (
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// TestDecoderSpecType checks that a decoded configuration has the block's
// implied type, computed-only attributes included, so that providers get
// it without conversion.
func TestDecoderSpecType(t *testing.T) {
	tests := []struct {
		name  string
		block *Block
	}{
		{"computed-only attributes", &Block{Attributes: map[string]*Attribute{
			"input":  {Type: cty.DynamicPseudoType, Optional: true},
			"output": {Type: cty.DynamicPseudoType, Computed: true},
			"id":     {Type: cty.String, Computed: true},
			"path":   {Type: cty.String, Required: true},
		}}},
		{"nested blocks", &Block{
			Attributes: map[string]*Attribute{"id": {Type: cty.String, Computed: true}},
			BlockTypes: map[string]*NestedBlock{
				"single": {Nesting: NestingSingle, Block: Block{Attributes: map[string]*Attribute{
					"a": {Type: cty.String, Optional: true}, "b": {Type: cty.Number, Computed: true}}}},
				"list": {Nesting: NestingList, Block: Block{Attributes: map[string]*Attribute{
					"c": {Type: cty.Bool, Computed: true}}}},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := hcldec.ImpliedType(tt.block.DecoderSpec()), tt.block.ImpliedType()
			if !got.Equals(want) {
				t.Errorf("decoded type %#v, want the implied type %#v", got, want)
			}
		})
	}
}
