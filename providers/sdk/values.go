package sdk

import "github.com/zclconf/go-cty/cty"

// SetAttrs returns obj with the given attributes replaced. obj must be an
// object with those attributes; an unknown obj is returned unchanged.
func SetAttrs(obj cty.Value, attrs map[string]cty.Value) cty.Value {
	if !obj.IsKnown() {
		return obj
	}
	m := obj.AsValueMap()
	if m == nil {
		m = make(map[string]cty.Value, len(attrs))
	}
	for name, v := range attrs {
		m[name] = v
	}
	return cty.ObjectVal(m)
}
