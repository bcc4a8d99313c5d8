package sdk

import "github.com/zclconf/go-cty/cty"

// SetAttrs returns obj with the given attributes replaced. obj must be a
// known, non-null object with those attributes; an unknown obj is
// returned unchanged.
func SetAttrs(obj cty.Value, attrs map[string]cty.Value) cty.Value {
	if !obj.IsKnown() {
		return obj
	}
	types := obj.Type().AttributeTypes()
	m := make(map[string]cty.Value, len(types))
	for name := range types {
		m[name] = obj.GetAttr(name)
	}
	for name, v := range attrs {
		m[name] = v
	}
	return cty.ObjectVal(m)
}

// conforms says whether a value of type got may stand where want is
// expected: got is want with concrete types for want's dynamic parts. It is
// cty's TestConformance without building error paths, as it runs on every
// value of every call.
func conforms(got, want cty.Type) bool {
	switch {
	case want == cty.DynamicPseudoType:
		return true
	case want.IsPrimitiveType():
		return got == want
	case want.IsObjectType():
		if !got.IsObjectType() {
			return false
		}
		wa, ga := want.AttributeTypes(), got.AttributeTypes()
		if len(wa) != len(ga) {
			return false
		}
		for name, wt := range wa {
			gt, ok := ga[name]
			if !ok || !conforms(gt, wt) {
				return false
			}
		}
		return true
	case want.IsListType():
		return got.IsListType() && conforms(got.ElementType(), want.ElementType())
	case want.IsSetType():
		return got.IsSetType() && conforms(got.ElementType(), want.ElementType())
	case want.IsMapType():
		return got.IsMapType() && conforms(got.ElementType(), want.ElementType())
	case want.IsTupleType():
		if !got.IsTupleType() {
			return false
		}
		we, ge := want.TupleElementTypes(), got.TupleElementTypes()
		if len(we) != len(ge) {
			return false
		}
		for i := range we {
			if !conforms(ge[i], we[i]) {
				return false
			}
		}
		return true
	}
	return got.Equals(want)
}
