package sdk

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestConformsAgreesWithCty(t *testing.T) {
	obj := cty.Object(map[string]cty.Type{"a": cty.String, "b": cty.DynamicPseudoType})
	types := []cty.Type{
		cty.String, cty.Number, cty.Bool, cty.DynamicPseudoType,
		cty.List(cty.String), cty.List(cty.DynamicPseudoType), cty.Set(cty.Number), cty.Map(cty.String),
		cty.Tuple([]cty.Type{cty.String}), cty.Tuple([]cty.Type{cty.String, cty.Number}), cty.EmptyTuple,
		obj, cty.Object(map[string]cty.Type{"a": cty.String, "b": cty.List(cty.Bool)}),
		cty.Object(map[string]cty.Type{"a": cty.String}), cty.EmptyObject,
		cty.List(obj), cty.Map(cty.Object(map[string]cty.Type{"a": cty.String, "b": cty.Number})),
	}
	for _, want := range types {
		for _, got := range types {
			if c, cty := conforms(got, want), len(got.TestConformance(want)) == 0; c != cty {
				t.Errorf("conforms(%s, %s) = %v, cty says %v", got.GoString(), want.GoString(), c, cty)
			}
		}
	}
}

func TestSetAttrs(t *testing.T) {
	v := cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": cty.NullVal(cty.Number)})
	got := SetAttrs(v, map[string]cty.Value{"b": cty.NumberIntVal(2)})
	want := cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": cty.NumberIntVal(2)})
	if !got.RawEquals(want) {
		t.Errorf("got %#v", got)
	}
	if u := cty.UnknownVal(v.Type()); !SetAttrs(u, map[string]cty.Value{"b": cty.Zero}).RawEquals(u) {
		t.Error("an unknown object changed")
	}
}
