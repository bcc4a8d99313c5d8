package sdk

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/drover-dr/drover/internal/suggest"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// validateBlock checks v against b: unknown names, values for computed-only
// attributes, missing required arguments, types and block counts. Null and
// unknown values are accepted wherever they stand for a whole block.
func validateBlock(b *schema.Block, v cty.Value, path cty.Path) providers.Diagnostics {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	ty := v.Type()
	if !ty.IsObjectType() {
		return providers.Diagnostics{providers.AttrErrorf(path, "Invalid block",
			"A block of arguments is required here, not %s.", ty.FriendlyName())}
	}
	// A block is validated at every call (a runbook's step invokes an
	// action with the same few arguments a thousand times): names are
	// sorted, and paths made, only for the diagnostics, so that a valid
	// block, the usual case, costs neither.
	var unexpected []string
	for name := range ty.AttributeTypes() {
		if _, ok := b.Attributes[name]; ok {
			continue
		}
		if _, ok := b.BlockTypes[name]; ok {
			continue
		}
		unexpected = append(unexpected, name)
	}
	sort.Strings(unexpected)
	var diags providers.Diagnostics
	for _, name := range unexpected {
		detail := fmt.Sprintf("An argument named %q is not expected here.", name)
		if s := suggest.Nearest(name, b.Names()); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		diags = append(diags, providers.Diagnostic{Severity: providers.Error, Summary: "Unsupported argument",
			Detail: detail, Path: appendPath(path, cty.GetAttrStep{Name: name})})
	}
	type attrDiag struct {
		name string
		diag providers.Diagnostic
	}
	var attrDiags []attrDiag
	add := func(name, summary, format string, args ...any) {
		attrDiags = append(attrDiags, attrDiag{name, providers.AttrErrorf(appendPath(path, cty.GetAttrStep{Name: name}), summary, format, args...)})
	}
	for name, a := range b.Attributes {
		av := cty.NullVal(a.Type)
		if ty.HasAttribute(name) {
			av = v.GetAttr(name)
		}
		switch {
		case a.Computed && !a.Optional && !av.IsNull():
			add(name, "Value for unconfigurable attribute",
				"%q is computed by the provider and cannot be set in configuration.", name)
		case a.Required && av.IsNull():
			add(name, "Missing required argument",
				"The argument %q is required, but no definition was found.", name)
		case !av.IsNull() && !conforms(av.Type(), a.Type):
			// As conform fills them: an object attribute recorded before
			// its type gained attributes (a host value in an older state)
			// still converts.
			if _, err := convert.Convert(fill(av, a.Type), a.Type); err != nil {
				add(name, "Incorrect attribute value type",
					"Inappropriate value for attribute %q: %s.", name, err)
			}
		}
	}
	// At most one diagnostic an attribute: by name is the schema's order.
	slices.SortFunc(attrDiags, func(a, b attrDiag) int { return strings.Compare(a.name, b.name) })
	for _, d := range attrDiags {
		diags = append(diags, d.diag)
	}
	for _, name := range sortedKeys(b.BlockTypes) {
		nb := b.BlockTypes[name]
		p := appendPath(path, cty.GetAttrStep{Name: name})
		bv := cty.NullVal(cty.DynamicPseudoType)
		if ty.HasAttribute(name) {
			bv = v.GetAttr(name)
		}
		diags = append(diags, validateNested(nb, bv, p)...)
	}
	return diags
}

func validateNested(nb *schema.NestedBlock, v cty.Value, path cty.Path) providers.Diagnostics {
	if !v.IsKnown() {
		return nil
	}
	name := path[len(path)-1].(cty.GetAttrStep).Name
	if nb.Nesting == schema.NestingSingle {
		if v.IsNull() && nb.MinItems > 0 {
			return providers.Diagnostics{providers.AttrErrorf(path, "Missing required block",
				"A %q block is required here.", name)}
		}
		return validateBlock(&nb.Block, v, path)
	}
	var diags providers.Diagnostics
	n := 0
	if !v.IsNull() {
		ty := v.Type()
		ok := ty.IsListType() || ty.IsSetType() || ty.IsTupleType()
		if nb.Nesting == schema.NestingMap {
			ok = ty.IsMapType() || ty.IsObjectType()
		}
		if !ok {
			return providers.Diagnostics{providers.AttrErrorf(path, "Invalid block",
				"Blocks of type %q must be given as a %s of blocks, not %s.", name, nb.Nesting, ty.FriendlyName())}
		}
		for it := v.ElementIterator(); it.Next(); n++ {
			k, ev := it.Element()
			if nb.Nesting == schema.NestingSet {
				k = cty.NumberIntVal(int64(n))
			}
			diags = append(diags, validateBlock(&nb.Block, ev, appendPath(path, cty.IndexStep{Key: k}))...)
		}
	}
	if n < nb.MinItems {
		diags = append(diags, providers.AttrErrorf(path, "Too few blocks",
			"At least %d %q blocks are required, not %d.", nb.MinItems, name, n))
	}
	if nb.MaxItems > 0 && n > nb.MaxItems {
		diags = append(diags, providers.AttrErrorf(path, "Too many blocks",
			"At most %d %q blocks are allowed, not %d.", nb.MaxItems, name, n))
	}
	return diags
}

// conform returns v as a value of ty, the block's implied type: values that
// already conform pass unchanged; missing attributes become null, and
// attributes the block no longer has are dropped, so that a state written
// before the provider's schema gained or lost an attribute still reads;
// others are converted, and a failure is a diagnostic with the attribute's
// path. It does not check v as configuration (validateBlock does): computed
// attributes are what state values are made of.
func conform(ty cty.Type, v cty.Value) (cty.Value, providers.Diagnostics) {
	if v == cty.NilVal {
		return cty.NullVal(ty), nil
	}
	if conforms(v.Type(), ty) {
		return v, nil
	}
	out, err := convert.Convert(fill(v, ty), ty)
	if err != nil {
		var path cty.Path
		if pe, ok := err.(cty.PathError); ok {
			path = pe.Path
		}
		return cty.NullVal(ty), providers.Diagnostics{providers.AttrErrorf(path, "Invalid value",
			"The value does not match the schema: %s.", err)}
	}
	return out, nil
}

// fill shapes the objects of v as ty describes them: attributes v lacks
// become null, attributes ty lacks are left out, so that v converts.
func fill(v cty.Value, ty cty.Type) cty.Value {
	if v.IsNull() || !v.IsKnown() {
		return v
	}
	vt := v.Type()
	switch {
	case ty.IsObjectType() && vt.IsObjectType():
		attrs := make(map[string]cty.Value, len(ty.AttributeTypes()))
		for name, at := range ty.AttributeTypes() {
			if vt.HasAttribute(name) {
				attrs[name] = fill(v.GetAttr(name), at)
			} else {
				attrs[name] = cty.NullVal(at)
			}
		}
		return cty.ObjectVal(attrs)
	case (ty.IsListType() || ty.IsSetType()) && (vt.IsListType() || vt.IsSetType() || vt.IsTupleType()):
		var elems []cty.Value
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			elems = append(elems, fill(ev, ty.ElementType()))
		}
		if len(elems) == 0 {
			return v
		}
		return cty.TupleVal(elems)
	case ty.IsMapType() && (vt.IsMapType() || vt.IsObjectType()):
		elems := map[string]cty.Value{}
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			elems[k.AsString()] = fill(ev, ty.ElementType())
		}
		if len(elems) == 0 {
			return v
		}
		return cty.ObjectVal(elems)
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
