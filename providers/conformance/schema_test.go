package conformance

import (
	"strings"
	"testing"

	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
)

func TestCheckProvider(t *testing.T) {
	resource := func(attrs map[string]*schema.Attribute, blocks map[string]*schema.NestedBlock) *schema.Provider {
		return &schema.Provider{ResourceTypes: map[string]*schema.Resource{
			"x_thing": {Block: &schema.Block{Attributes: attrs, BlockTypes: blocks}},
		}}
	}
	tests := []struct {
		name string
		s    *schema.Provider
		want string
	}{
		{"valid", resource(map[string]*schema.Attribute{
			"a": {Type: cty.String, Required: true, ForceNew: true},
			"b": {Type: cty.Number, Optional: true, Computed: true},
			"c": {Type: cty.Bool, Computed: true, Sensitive: true},
		}, map[string]*schema.NestedBlock{"rule": {Nesting: schema.NestingList, MaxItems: 3}}), ""},
		{"no type", resource(map[string]*schema.Attribute{"a": {Required: true}}, nil), `attribute "a": no type`},
		{"required and computed", resource(map[string]*schema.Attribute{"a": {Type: cty.String, Required: true, Computed: true}}, nil),
			"required, so neither optional nor computed"},
		{"no flag", resource(map[string]*schema.Attribute{"a": {Type: cty.String}}, nil), "none of required, optional or computed"},
		{"force new computed", resource(map[string]*schema.Attribute{"a": {Type: cty.String, Computed: true, ForceNew: true}}, nil),
			"forces replacement but cannot be configured"},
		{"bad name", resource(map[string]*schema.Attribute{"Bad-Name": {Type: cty.String, Optional: true}}, nil), "not an identifier"},
		{"nil block", &schema.Provider{ResourceTypes: map[string]*schema.Resource{"x": {}}}, "no schema block"},
		{"empty provider", &schema.Provider{}, "declares no resource type"},
		{"bad bounds", resource(nil, map[string]*schema.NestedBlock{"rule": {Nesting: schema.NestingList, MinItems: 3, MaxItems: 1}}),
			"item bounds 3..1"},
		{"nested problem", resource(nil, map[string]*schema.NestedBlock{"rule": {Block: schema.Block{Attributes: map[string]*schema.Attribute{
			"port": {Type: cty.Number}}}}}), `block "rule": attribute "port": none of`},
		{"action args", &schema.Provider{Actions: map[string]*schema.Action{"reboot": {Args: &schema.Block{Attributes: map[string]*schema.Attribute{
			"wait": {Type: cty.Bool, Computed: true, ForceNew: true}}}}}}, "forces replacement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := checkProvider(tt.s)
			if tt.want == "" {
				if len(problems) > 0 {
					t.Errorf("problems in a valid schema: %v", problems)
				}
				return
			}
			if len(problems) != 1 || !strings.Contains(problems[0], tt.want) {
				t.Errorf("problems %q, want one saying %q", problems, tt.want)
			}
		})
	}
}

func TestContradicts(t *testing.T) {
	planned := cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": cty.UnknownVal(cty.Number),
		"l": cty.ListVal([]cty.Value{cty.StringVal("p")})})
	tests := []struct {
		name    string
		applied cty.Value
		want    string
	}{
		{"consistent", cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": cty.NumberIntVal(1),
			"l": cty.ListVal([]cty.Value{cty.StringVal("p")})}), ""},
		{"changed", cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("y"), "b": cty.NumberIntVal(1),
			"l": cty.ListVal([]cty.Value{cty.StringVal("p")})}), "a was planned as"},
		{"nested", cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": cty.NumberIntVal(1),
			"l": cty.ListVal([]cty.Value{cty.StringVal("q")})}), "l[cty.NumberIntVal(0)] was planned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := contradicts(planned, tt.applied)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("contradicts = %q, want %q", got, tt.want)
			}
		})
	}
}
