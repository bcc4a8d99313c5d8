package core

import (
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// BenchmarkRunAction is one runbook step of `run = ["true"]` as the core
// provider serves it, without the plugin protocol: what the provider
// itself spends around the program, per step.
func BenchmarkRunAction(b *testing.B) {
	p := sdk.New(New())
	args := cty.ObjectVal(map[string]cty.Value{
		"host": host.Config{Name: "h", Root: b.TempDir()}.Value(),
		"argv": cty.ListVal([]cty.Value{cty.StringVal("true")}),
		"env":  cty.NullVal(cty.Map(cty.String)),
		"dir":  cty.NullVal(cty.String),
	})
	b.ReportAllocs()
	for b.Loop() {
		resp := p.Invoke(b.Context(), providers.InvokeRequest{Action: "run", Args: args, Progress: func(providers.Progress) {}})
		if resp.Diagnostics.HasErrors() {
			b.Fatal(resp.Diagnostics)
		}
	}
}
