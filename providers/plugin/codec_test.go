package plugin

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestValueRoundTrip puts values on the wire and back: marks stay behind,
// everything else arrives as it was.
func TestValueRoundTrip(t *testing.T) {
	obj := func(input cty.Value) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("x"), "input": input, "n": cty.NumberIntVal(3)})
	}
	tests := []struct {
		name     string
		in, want cty.Value
	}{
		{"plain object", obj(cty.StringVal("v")), obj(cty.StringVal("v"))},
		{"marked attribute", obj(cty.StringVal("secret").Mark("sensitive")), obj(cty.StringVal("secret"))},
		{"marked object", obj(cty.StringVal("v")).Mark("sensitive"), obj(cty.StringVal("v"))},
		{"marked in a list", cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b").Mark("sensitive")}),
			cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})},
		{"unknown", obj(cty.UnknownVal(cty.String)), obj(cty.UnknownVal(cty.String))},
		{"null", cty.NullVal(cty.String), cty.NullVal(cty.String)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dv, err := encodeValue(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeValue(dv)
			if err != nil {
				t.Fatal(err)
			}
			if !got.RawEquals(tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}
