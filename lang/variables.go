package lang

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/drover-dr/drover/internal/suggest"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// VarEnvPrefix starts the names of environment variables that set input
// variables: DROVER_VAR_region=eu-west.
const VarEnvPrefix = "DROVER_VAR_"

// InputValues gathers variable values from, in rising precedence,
// DROVER_VAR_name environment entries, --var-file files (HCL, or JSON when
// the name ends in .json) and --var flags (NAME=VALUE). A value from the
// environment or a flag is taken as a literal string when the variable's
// type is string, and read as an HCL expression otherwise.
//
// An environment entry for an undeclared variable is ignored (it may be
// meant for another configuration); a file entry is a warning; a flag is
// an error.
func InputValues(cfg *Config, environ []string, varFiles []string, varFlags []string) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := map[string]cty.Value{}
	for _, kv := range environ {
		key, raw, ok := strings.Cut(kv, "=")
		name, isVar := strings.CutPrefix(key, VarEnvPrefix)
		if !ok || !isVar {
			continue
		}
		v := cfg.Variables[name]
		if v == nil {
			continue
		}
		val, d := parseRawValue(v, raw, "the environment variable "+key)
		diags = append(diags, d...)
		if !d.HasErrors() {
			out[name] = val
		}
	}
	for _, path := range varFiles {
		vals, d := readVarFile(cfg, path)
		diags = append(diags, d...)
		for name, val := range vals {
			out[name] = val
		}
	}
	for _, flag := range varFlags {
		name, raw, ok := strings.Cut(flag, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid --var option",
				Detail:   fmt.Sprintf("The option --var %q is not NAME=VALUE. Give a variable name and a value separated by an equals sign, like --var region=eu-west.", flag),
			})
			continue
		}
		v := cfg.Variables[name]
		if v == nil {
			diags = append(diags, undeclaredInput(cfg, name, "was given with --var", hcl.DiagError, nil))
			continue
		}
		val, d := parseRawValue(v, raw, fmt.Sprintf("--var %s=...", name))
		diags = append(diags, d...)
		if !d.HasErrors() {
			out[name] = val
		}
	}
	return out, diags
}

func undeclaredInput(cfg *Config, name, how string, sev hcl.DiagnosticSeverity, subject *hcl.Range) *hcl.Diagnostic {
	names := make([]string, 0, len(cfg.Variables))
	for n := range cfg.Variables {
		names = append(names, n)
	}
	detail := fmt.Sprintf("A value for variable %q %s, but the configuration declares no variable of that name.", name, how)
	if s := suggest.Nearest(name, names); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	} else {
		detail += fmt.Sprintf(` To use it, declare it: variable %q {}.`, name)
	}
	if sev == hcl.DiagWarning {
		detail += " The value is ignored."
	}
	return &hcl.Diagnostic{Severity: sev, Summary: "Value for undeclared variable", Detail: detail, Subject: subject}
}

// parseRawValue reads a value given on the command line or in the
// environment: literally for variables of a primitive type (string,
// number, bool), converted to it; as an HCL expression (without
// references or function calls) otherwise.
func parseRawValue(v *Variable, raw, origin string) (cty.Value, hcl.Diagnostics) {
	fail := func(why string) (cty.Value, hcl.Diagnostics) {
		detail := fmt.Sprintf("The value of variable %q from %s cannot be read: %s.", v.Name, origin, why)
		if v.Type == cty.DynamicPseudoType {
			detail += fmt.Sprintf(` Variables without a string type take HCL values: quote a string, like %s="text", or declare type = string.`, v.Name)
		}
		return cty.DynamicVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable", Detail: detail}}
	}
	if v.Type.IsPrimitiveType() {
		val, err := convert.Convert(cty.StringVal(raw), v.Type)
		if err != nil {
			return fail(err.Error())
		}
		return val, nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), origin, hcl.InitialPos)
	if diags.HasErrors() {
		return fail(strings.TrimSuffix(diags[0].Detail, "."))
	}
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		return fail(strings.TrimSuffix(diags[0].Detail, "."))
	}
	return val, nil
}

func readVarFile(cfg *Config, path string) (map[string]cty.Value, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read variables file",
			Detail:   fmt.Sprintf("Reading %s failed: %s.", path, err),
		}}
	}
	var file *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		file, diags = hcljson.Parse(src, path)
	} else {
		file, diags = hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	attrs, d := file.Body.JustAttributes()
	diags = append(diags, d...)
	out := map[string]cty.Value{}
	for _, a := range sortedAttrs(attrs) {
		if cfg.Variables[a.Name] == nil {
			diags = append(diags, undeclaredInput(cfg, a.Name, "is set in "+path, hcl.DiagWarning, a.NameRange.Ptr()))
			continue
		}
		val, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			out[a.Name] = val
		}
	}
	return out, diags
}

// FinalizeVariables applies defaults, type conversion, nullability and
// validation blocks; a required variable without value is an error that
// says how to give one. Values of variables declared sensitive carry
// SensitiveMark.
func FinalizeVariables(cfg *Config, inputs map[string]cty.Value) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	names := make([]string, 0, len(cfg.Variables))
	for n := range cfg.Variables {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make(map[string]cty.Value, len(names))
	for _, name := range names {
		v := cfg.Variables[name]
		val, given := inputs[name]
		given = given && val != cty.NilVal
		if !given || (val.IsNull() && !v.Nullable) {
			if v.Default == cty.NilVal {
				out[name] = cty.UnknownVal(v.Type)
				detail := fmt.Sprintf("Variable %q has no default, so it needs a value. Pass --var %s=VALUE or a --var-file, or set the environment variable %s%s.", name, name, VarEnvPrefix, name)
				summary := "No value for required variable"
				if given {
					summary = "Required variable set to null"
					detail = fmt.Sprintf("Variable %q is declared nullable = false and has no default, so null is not a valid value.", name)
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: v.DeclRange.Ptr()})
				continue
			}
			val = v.Default
		}
		if v.typeDefaults != nil && !val.IsNull() {
			val = v.typeDefaults.Apply(val)
		}
		conv, err := convert.Convert(val, v.Type)
		if err != nil {
			out[name] = cty.UnknownVal(v.Type)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("The value given for variable %q does not match its type %s: %s.", name, typeexpr.TypeString(v.Type), formatValueError(err)),
				Subject:  v.DeclRange.Ptr(),
			})
			continue
		}
		if v.Sensitive {
			conv = conv.Mark(SensitiveMark)
		}
		diags = append(diags, v.validate(cfg.Dir, conv)...)
		out[name] = conv
	}
	return out, diags
}

// validate runs the validation blocks of v with only var.<name> in scope.
func (v *Variable) validate(dir string, val cty.Value) hcl.Diagnostics {
	if len(v.Validations) == 0 {
		return nil
	}
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})},
		Functions: sharedFor(dir, false, time.Time{}).functions,
	}
	for _, rule := range v.Validations {
		res, d := rule.Condition.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		res, _ = res.Unmark()
		res, err := convert.Convert(res, cty.Bool)
		if err != nil || res.IsNull() {
			diags = append(diags, &hcl.Diagnostic{
				Severity:    hcl.DiagError,
				Summary:     "Invalid validation condition",
				Detail:      "The condition must be true or false.",
				Subject:     rule.Condition.Range().Ptr(),
				Expression:  rule.Condition,
				EvalContext: ctx,
			})
			continue
		}
		if !res.IsKnown() || res.True() {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Invalid value for variable",
			Detail:      fmt.Sprintf("%s\n\nThis was checked by the validation rule at %s.", errorMessage(rule.ErrorMessage, ctx), shortRange(rule.DeclRange)),
			Subject:     rule.Condition.Range().Ptr(),
			Expression:  rule.Condition,
			EvalContext: ctx,
		})
	}
	return diags
}

func errorMessage(expr hcl.Expression, ctx *hcl.EvalContext) string {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return "The error message could not be produced: " + diags[0].Detail
	}
	if v.HasMark(SensitiveMark) {
		return "The error message refers to a sensitive value, so it is not shown."
	}
	v, _ = v.UnmarkDeep()
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() || !s.IsKnown() {
		return "The error message is not a string."
	}
	return strings.TrimSpace(s.AsString())
}
