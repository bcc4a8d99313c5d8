package main

import (
	"testing"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/conformance"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// The conformance suite every provider must pass.
func TestConformance(t *testing.T) {
	dir := t.TempDir()
	conformance.Run(t, func() (providers.Provider, error) { return sdk.New(newProvider()), nil }, []conformance.Case{{
		TypeName: "hello_greeting",
		Config:   cty.ObjectVal(map[string]cty.Value{"dir": cty.StringVal(dir), "name": cty.StringVal("ops")}),
		Update:   cty.ObjectVal(map[string]cty.Value{"dir": cty.StringVal(dir), "name": cty.StringVal("everyone")}),
		External: true,
	}})
}
