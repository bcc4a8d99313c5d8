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

// TestDecodeRepeatedValue decodes the arguments a runbook step's instances
// all send: after the first, a decode is a lookup, allocating nothing;
// and an encoding standing for values of several types (msgpack nil)
// decodes to each in its own type.
func TestDecodeRepeatedValue(t *testing.T) {
	args := cty.ObjectVal(map[string]cty.Value{
		"host": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("h"), "root": cty.StringVal("/srv/h"), "port": cty.NullVal(cty.Number)}),
		"argv": cty.ListVal([]cty.Value{cty.StringVal("true")}),
		"env":  cty.NullVal(cty.Map(cty.String)),
	})
	tests := []struct {
		name string
		in   cty.Value
	}{
		{"step arguments", args},
		{"null string", cty.NullVal(cty.String)},
		{"null number", cty.NullVal(cty.Number)},
		{"null list", cty.NullVal(cty.List(cty.String))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dv, err := encodeValue(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				got, err := decodeValue(dv)
				if err != nil {
					t.Fatal(err)
				}
				if !got.RawEquals(tt.in) {
					t.Fatalf("got %#v, want %#v", got, tt.in)
				}
			}
			if n := testing.AllocsPerRun(100, func() { decodeValue(dv) }); n != 0 {
				t.Errorf("decoding it again allocates %v times, want 0", n)
			}
		})
	}
}

// TestEncodeRepeatedValue encodes values of one type one after the other:
// a value equal to the one before is encoded by a comparison, allocating
// only the message; one that differs, however little (a refinement of an
// unknown, a mark), is encoded for itself.
func TestEncodeRepeatedValue(t *testing.T) {
	args := func(argv string) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{
			"host": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("h"), "root": cty.StringVal("/srv/h")}),
			"argv": cty.ListVal([]cty.Value{cty.StringVal(argv)}),
		})
	}
	tests := []struct {
		name        string
		first, then cty.Value
	}{
		{"equal arguments", args("true"), args("true")},
		{"other arguments", args("true"), args("false")},
		{"numbers", cty.NumberIntVal(1), cty.NumberFloatVal(1.5)},
		{"null then known", cty.NullVal(cty.String), cty.StringVal("")},
		{"unknown then refined", cty.UnknownVal(cty.String), cty.UnknownVal(cty.String).Refine().NotNull().NewValue()},
		{"marked", cty.StringVal("s"), cty.StringVal("s").Mark("sensitive")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := encodeValue(tt.first); err != nil {
				t.Fatal(err)
			}
			dv, err := encodeValue(tt.then)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeValue(dv)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := tt.then.UnmarkDeep()
			if !got.RawEquals(want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}
	v := args("true")
	encodeValue(v)
	if n := testing.AllocsPerRun(100, func() { encodeValue(v) }); n > 1 {
		t.Errorf("encoding an equal value again allocates %v times, want 1 (the message)", n)
	}
}
