package sdk

import (
	"testing"

	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
)

// BenchmarkValidateBlock validates the arguments of a step that runs a
// program on a host, as every call of a runbook's step does.
func BenchmarkValidateBlock(b *testing.B) {
	hostType := cty.Object(map[string]cty.Type{"name": cty.String, "transport": cty.String, "address": cty.String,
		"root": cty.String, "user": cty.String, "port": cty.Number, "identity_file": cty.String, "host_key": cty.String,
		"known_hosts": cty.String, "netns": cty.String, "agent": cty.Bool})
	block := &schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: hostType, Required: true},
		"argv": {Type: cty.List(cty.String), Required: true},
		"env":  {Type: cty.Map(cty.String), Optional: true},
		"dir":  {Type: cty.String, Optional: true},
	}}
	host := map[string]cty.Value{}
	for name, ty := range hostType.AttributeTypes() {
		host[name] = cty.NullVal(ty)
	}
	host["name"], host["transport"], host["root"] = cty.StringVal("h"), cty.StringVal("local"), cty.StringVal("sim")
	args := cty.ObjectVal(map[string]cty.Value{
		"host": cty.ObjectVal(host),
		"argv": cty.ListVal([]cty.Value{cty.StringVal("true")}),
		"env":  cty.NullVal(cty.Map(cty.String)),
		"dir":  cty.NullVal(cty.String),
	})
	b.ReportAllocs()
	for b.Loop() {
		if diags := validateBlock(block, args, nil); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
