package render

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Value renders one value in HCL-like syntax: strings quoted, collections
// multi-line and indented, keys sorted.
func Value(v cty.Value) string {
	var b strings.Builder
	writeValue(&b, v, 0, nil, nil)
	return b.String()
}

// hidden decides, for a path, whether the value there is redacted.
type hidden func(cty.Path) bool

func writeValue(b *strings.Builder, v cty.Value, indent int, path cty.Path, hide hidden) {
	switch {
	case hide != nil && hide(path):
		b.WriteString("(sensitive value)")
		return
	case v == cty.NilVal || !v.IsKnown():
		b.WriteString("(known after apply)")
		return
	case v.IsNull():
		b.WriteString("null")
		return
	}
	ty := v.Type()
	pad := strings.Repeat("  ", indent+1)
	switch {
	case ty == cty.String:
		writeString(b, v.AsString(), indent)
	case ty == cty.Number:
		b.WriteString(v.AsBigFloat().Text('f', -1))
	case ty == cty.Bool:
		fmt.Fprint(b, v.True())
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		if v.LengthInt() == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			k, e := it.Element()
			b.WriteString(pad)
			writeValue(b, e, indent+1, append(path.Copy(), cty.IndexStep{Key: k}), hide)
			b.WriteString(",\n")
		}
		b.WriteString(strings.Repeat("  ", indent) + "]")
	case ty.IsMapType() || ty.IsObjectType():
		keys, vals := entries(v)
		if ty.IsObjectType() {
			keys, vals = dropNulls(keys, vals)
		}
		if len(keys) == 0 {
			b.WriteString("{}")
			return
		}
		width := 0
		for _, k := range keys {
			width = max(width, len(key(k)))
		}
		b.WriteString("{\n")
		for i, k := range keys {
			fmt.Fprintf(b, "%s%-*s = ", pad, width, key(k))
			writeValue(b, vals[i], indent+1, append(path.Copy(), step(v, k)), hide)
			b.WriteString("\n")
		}
		b.WriteString(strings.Repeat("  ", indent) + "}")
	default:
		b.WriteString(ty.FriendlyName())
	}
}

func writeString(b *strings.Builder, s string, indent int) {
	if strings.Contains(strings.TrimSuffix(s, "\n"), "\n") {
		pad := strings.Repeat("  ", indent+1)
		b.WriteString("<<-EOT\n")
		for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			b.WriteString(pad + line + "\n")
		}
		b.WriteString(strings.Repeat("  ", indent) + "EOT")
		return
	}
	fmt.Fprintf(b, "%q", s)
}

// entries lists a map's or object's keys, sorted, with their values.
func entries(v cty.Value) ([]string, []cty.Value) {
	m := v.AsValueMap()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make([]cty.Value, len(keys))
	for i, k := range keys {
		vals[i] = m[k]
	}
	return keys, vals
}

// key writes an attribute or map key, quoted when it is not an identifier.
func key(k string) string {
	for i, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return fmt.Sprintf("%q", k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}

func step(v cty.Value, k string) cty.PathStep {
	if v.Type().IsObjectType() {
		return cty.GetAttrStep{Name: k}
	}
	return cty.IndexStep{Key: cty.StringVal(k)}
}

// dropNulls leaves out unset attributes, as a configuration would.
func dropNulls(keys []string, vals []cty.Value) ([]string, []cty.Value) {
	var ks []string
	var vs []cty.Value
	for i, v := range vals {
		if v.IsKnown() && v.IsNull() {
			continue
		}
		ks, vs = append(ks, keys[i]), append(vs, v)
	}
	return ks, vs
}
