package core

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/conformance"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// Cases returns conformance cases for the core provider whose files live
// below a host rooted at root.
func Cases(t *testing.T, root string) []conformance.Case {
	hc := host.Config{Name: "fs1", Root: root}
	h := hc.Value()
	id, err := json.Marshal(map[string]any{"host": map[string]any{"name": "fs1", "root": root}, "path": "/etc/motd"})
	if err != nil {
		t.Fatal(err)
	}
	str := cty.StringVal
	obj := func(attrs map[string]cty.Value) cty.Value { return cty.ObjectVal(attrs) }
	return []conformance.Case{
		{Name: "value in place", TypeName: "value",
			Config: obj(map[string]cty.Value{"input": str("a")}),
			Update: obj(map[string]cty.Value{"input": obj(map[string]cty.Value{"n": cty.NumberIntVal(1), "l": cty.TupleVal([]cty.Value{str("x")})})})},
		{Name: "value replaced", TypeName: "value",
			Config: obj(map[string]cty.Value{"input": cty.True, "triggers_replace": str("v1")}),
			Update: obj(map[string]cty.Value{"input": cty.True, "triggers_replace": str("v2")})},
		{Name: "value empty", TypeName: "value", Config: obj(nil)},
		{Name: "file", TypeName: "file", External: true,
			Config:   obj(map[string]cty.Value{"host": h, "path": str("/etc/motd"), "content": str("hello\n")}),
			Update:   obj(map[string]cty.Value{"host": h, "path": str("/etc/motd"), "content": str("bye\n"), "mode": str("0600")}),
			ImportID: string(id)},
		{Name: "file sensitive", TypeName: "file", External: true,
			Config: obj(map[string]cty.Value{"host": h, "path": str("/etc/secret"), "sensitive_content": str("pw")}),
			Update: obj(map[string]cty.Value{"host": h, "path": str("/etc/secret"), "sensitive_content": str("pw2")})},
		{Name: "file binary moved", TypeName: "file", External: true,
			Config: obj(map[string]cty.Value{"host": h, "path": str("/srv/a.reg"), "content_base64": str("//4AAFIA")}),
			Update: obj(map[string]cty.Value{"host": h, "path": str("/srv/b.reg"), "content_base64": str("//4AAFIA"), "mode": str("0755")})},
	}
}

func TestConformance(t *testing.T) {
	root := filepath.Join(t.TempDir(), "sim", "fs1")
	conformance.Run(t, func() (providers.Provider, error) { return sdk.New(New()), nil }, Cases(t, root))
}
