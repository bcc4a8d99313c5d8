package registry

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func valueAction() *sdk.Action {
	attrs := locationAttrs(false)
	attrs["key"] = &schema.Attribute{Type: cty.String, Required: true, Description: "The key holding the value."}
	attrs["name"] = &schema.Attribute{Type: cty.String, Required: true, Description: "The value's name; \"\" for the key's default value."}
	attrs["equals"] = &schema.Attribute{Type: cty.String, Optional: true,
		Description: "What the value must be, as text: a string's text, a DWORD or QWORD in decimal, other types as a .reg file writes their data. Without it, the value must exist."}
	return &sdk.Action{
		Schema: &schema.Action{
			Description: "Checks a registry value: that it exists, and equals a text when given. A value that is missing or differs is a result (passed false, what was found in detail), not an error.",
			Args:        &schema.Block{Attributes: attrs},
			Result:      cty.Object(map[string]cty.Type{"passed": cty.Bool, "detail": cty.String}),
		},
		Invoke: invokeValue,
	}
}

func invokeValue(ctx context.Context, req sdk.InvokeRequest) (cty.Value, providers.Diagnostics) {
	args := req.Args
	diags := validateLocation(args, "key")
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	h, s, diags := open(args)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer h.Close()
	result := func(passed bool, detail string) (cty.Value, providers.Diagnostics) {
		return cty.ObjectVal(map[string]cty.Value{"passed": cty.BoolVal(passed), "detail": cty.StringVal(detail)}), nil
	}
	key, name := str(args, "key"), args.GetAttr("name").AsString()
	keys, err := s.Export(ctx, key, false)
	if err != nil || len(keys) == 0 {
		detail := "no such key"
		if err != nil {
			detail = err.Error()
		}
		return result(false, detail)
	}
	for _, v := range keys[0].Values {
		if !strings.EqualFold(v.Name, name) {
			continue
		}
		text := valueText(v)
		if eq := args.GetAttr("equals"); !eq.IsNull() {
			return result(text == eq.AsString(), "the value is "+strconv.Quote(text))
		}
		return result(true, "present: "+strconv.Quote(text))
	}
	return result(false, fmt.Sprintf("key %s has no value %q", key, name))
}

// valueText is v as equals compares it: strings as their text, numbers
// in decimal, anything else as a .reg file writes its data.
func valueText(v regtext.Value) string {
	switch v.Type {
	case regtext.TypeString, regtext.TypeExpandString:
		if s, ok := regtext.AsString(v.Data); ok {
			return s
		}
	case regtext.TypeDWord:
		if len(v.Data) == 4 {
			return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(v.Data)), 10)
		}
	case regtext.TypeQWord:
		if len(v.Data) == 8 {
			return strconv.FormatUint(binary.LittleEndian.Uint64(v.Data), 10)
		}
	}
	line := v.String()
	return line[strings.Index(line, "=")+1:]
}
