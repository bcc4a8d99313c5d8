package funcs

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// renderTemplate renders src, a template named name in errors, with the
// variables of vars (argument 1 of the calling function) and fns.
func renderTemplate(src, name string, vars cty.Value, fns map[string]function.Function) (cty.Value, error) {
	if !(vars.Type().IsObjectType() || vars.Type().IsMapType()) || vars.IsNull() {
		return cty.NilVal, function.NewArgErrorf(1, "vars must be an object or a map")
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: fns}
	for it := vars.ElementIterator(); it.Next(); {
		k, v := it.Element()
		key := k.AsString()
		if !hclsyntax.ValidIdentifier(key) {
			return cty.NilVal, function.NewArgErrorf(1, "invalid template variable name %q: must start with a letter and contain only letters, digits, underscores and dashes", key)
		}
		ctx.Variables[key] = v
	}
	tmpl, diags := hclsyntax.ParseTemplate([]byte(src), name, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, function.NewArgErrorf(0, "failed to parse template: %s", diags.Error())
	}
	for _, t := range tmpl.Variables() {
		if _, ok := ctx.Variables[t.RootName()]; !ok {
			r := t.SourceRange()
			return cty.NilVal, function.NewArgErrorf(1, "vars map does not contain key %q, referenced at %s:%d,%d", t.RootName(), name, r.Start.Line, r.Start.Column)
		}
	}
	val, diags := tmpl.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, function.NewArgErrorf(0, "failed to render template: %s", diags.Error())
	}
	return convert.Convert(val, cty.String)
}

// templateStringFunc renders a string, typically read from elsewhere (a
// local, a data source), as a template with the given variables and the
// functions of fns. A literal first argument is rendered by HCL itself
// before the call; write its ${ as $${ to leave them to the template.
func templateStringFunc(fns map[string]function.Function) function.Function {
	return function.New(&function.Spec{
		Description: "Renders template, a string, as a template with the given variables.",
		Params: []function.Parameter{
			{Name: "template", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return renderTemplate(args[0].AsString(), "template string", args[1], fns)
		},
	})
}
