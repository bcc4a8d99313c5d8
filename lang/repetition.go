package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// decodeRepetition reads the count and for_each arguments of a block of
// kind (resource, step), which may set one of them.
func decodeRepetition(attrs hcl.Attributes, kind string) (count, forEach hcl.Expression, diags hcl.Diagnostics) {
	if a := attrs["count"]; a != nil {
		count = a.Expr
		diags = append(diags, checkMetaRefs("count", a.Expr)...)
	}
	if a := attrs["for_each"]; a != nil {
		if count != nil {
			return count, nil, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  `Invalid combination of "count" and "for_each"`,
				Detail:   fmt.Sprintf("A %s may set count or for_each, not both: count makes numbered instances, for_each keyed ones.", kind),
				Subject:  a.NameRange.Ptr(),
			})
		}
		forEach = a.Expr
		diags = append(diags, checkMetaRefs("for_each", a.Expr)...)
	}
	return count, forEach, diags
}

func repetitionError(arg string, expr hcl.Expression, ctx *hcl.EvalContext, detail string) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity:    hcl.DiagError,
		Summary:     fmt.Sprintf("Invalid %s argument", arg),
		Detail:      detail,
		Subject:     expr.Range().Ptr(),
		Expression:  expr,
		EvalContext: ctx,
	}}
}

// EvalCount evaluates a count argument: a known, non-sensitive, whole
// number of zero or more.
func (s *Scope) EvalCount(expr hcl.Expression) (int, hcl.Diagnostics) {
	val, ctx, diags := s.evalExpr(expr, cty.Number)
	if diags.HasErrors() {
		return 0, diags
	}
	if val.HasMark(SensitiveMark) || val.ContainsMarked() {
		return 0, append(diags, repetitionError("count", expr, ctx,
			"Sensitive values, or values derived from sensitive values, cannot be used as count: the number of instances would reveal them. Use nonsensitive() if the count is safe to show.")...)
	}
	switch {
	case val.IsNull():
		return 0, append(diags, repetitionError("count", expr, ctx,
			`The given "count" argument value is null. A whole number of zero or more is required.`)...)
	case !val.IsKnown():
		return 0, append(diags, repetitionError("count", expr, ctx,
			`The count value depends on values that cannot be determined until apply, so Drover cannot predict how many instances will be created. Apply the resources the count depends on first (with --target), or derive the count from values known while planning, such as variables.`)...)
	}
	var n int
	if err := gocty.FromCtyValue(val, &n); err != nil {
		why := "it must be a whole number of zero or more"
		if val.AsBigFloat().IsInt() {
			why = "that is more instances than Drover can count"
		}
		return 0, append(diags, repetitionError("count", expr, ctx,
			fmt.Sprintf(`The given "count" argument value is %s; %s.`, val.AsBigFloat().Text('g', -1), why))...)
	}
	if n < 0 {
		return 0, append(diags, repetitionError("count", expr, ctx,
			fmt.Sprintf(`The given "count" argument value is %d; it must be zero or more.`, n))...)
	}
	return n, diags
}

// EvalForEach evaluates a for_each argument into instance keys and their
// each.value: a map or object (its keys), or a set of strings (each
// element is both key and value). Keys must be known and not sensitive;
// values may be either.
func (s *Scope) EvalForEach(expr hcl.Expression) (map[string]cty.Value, hcl.Diagnostics) {
	val, ctx, diags := s.evalExpr(expr, cty.DynamicPseudoType)
	if diags.HasErrors() {
		return nil, diags
	}
	fail := func(detail string) (map[string]cty.Value, hcl.Diagnostics) {
		return nil, append(diags, repetitionError("for_each", expr, ctx, detail)...)
	}
	const sensitive = `Sensitive values, or values derived from sensitive values, cannot be used as for_each keys: the instance addresses would reveal them. Sensitive map values are fine; use nonsensitive() on the keys if they are safe to show.`
	if val.HasMark(SensitiveMark) {
		return fail(sensitive)
	}
	val, _ = val.Unmark()
	ty := val.Type()
	switch {
	case val.IsNull():
		return fail(`The given "for_each" argument value is null. A map, an object or a set of strings is required.`)
	case !val.IsKnown():
		what := "value"
		switch {
		case ty.IsMapType(), ty.IsObjectType():
			what = "map"
		case ty.IsSetType():
			what = "set"
		}
		return fail(fmt.Sprintf(`The "for_each" %s depends on values that cannot be determined until apply, so Drover cannot tell which instances to create. Use keys known while planning (put values known only after apply in the map values, not its keys), or apply the resources it depends on first with --target.`, what))
	case ty.IsMapType() || ty.IsObjectType():
		out := make(map[string]cty.Value, val.LengthInt())
		for it := val.ElementIterator(); it.Next(); {
			k, v := it.Element()
			out[k.AsString()] = v
		}
		return out, diags
	case ty.IsSetType():
		if !ty.ElementType().Equals(cty.String) {
			return fail(fmt.Sprintf(`The given "for_each" argument value is unsuitable: for_each takes a map or a set of strings, and this is a set of %s. Convert the elements with tostring, or build a map.`, ty.ElementType().FriendlyName()))
		}
		if !val.IsWhollyKnown() {
			return fail(`The "for_each" set includes values that cannot be determined until apply, so Drover cannot tell which instances to create. Use keys known while planning, or apply the resources it depends on first with --target.`)
		}
		out := make(map[string]cty.Value, val.LengthInt())
		for it := val.ElementIterator(); it.Next(); {
			_, v := it.Element()
			if v.IsMarked() {
				return fail(sensitive)
			}
			if v.IsNull() {
				return fail(`The given "for_each" set contains null; every element must be a string.`)
			}
			out[v.AsString()] = v
		}
		return out, diags
	}
	return fail(fmt.Sprintf(`The given "for_each" argument value is unsuitable: for_each takes a map, an object or a set of strings, and this is a %s. To repeat over a list, convert it with toset() or build a map with a for expression.`, ty.FriendlyName()))
}
