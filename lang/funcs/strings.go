package funcs

import (
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// ReplaceFunc replaces every occurrence of substr in str; a substr written
// between slashes (/re/) is a regular expression and replace may use $1.
var ReplaceFunc = function.New(&function.Spec{
	Description: "Replaces every occurrence of substr in str; /re/ is a regular expression.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
		{Name: "substr", Type: cty.String},
		{Name: "replace", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		str, substr, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
		if len(substr) > 1 && substr[0] == '/' && substr[len(substr)-1] == '/' {
			re, err := regexp.Compile(substr[1 : len(substr)-1])
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(1, "invalid regular expression: %s", err)
			}
			return cty.StringVal(re.ReplaceAllString(str, repl)), nil
		}
		return cty.StringVal(strings.ReplaceAll(str, substr, repl)), nil
	},
})

func stringTest(name, desc string, test func(s, part string) bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params: []function.Parameter{
			{Name: "str", Type: cty.String},
			{Name: name, Type: cty.String},
		},
		Type: function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

var (
	// StartsWithFunc tells whether str begins with prefix.
	StartsWithFunc = stringTest("prefix", "Returns true when str begins with prefix.", strings.HasPrefix)
	// EndsWithFunc tells whether str ends with suffix.
	EndsWithFunc = stringTest("suffix", "Returns true when str ends with suffix.", strings.HasSuffix)
	// StrContainsFunc tells whether str contains substr.
	StrContainsFunc = stringTest("substr", "Returns true when str contains substr.", strings.Contains)
)

// FormatFunc is the standard library's format, except that a null argument
// makes the result null, as Terraform's does, rather than an error.
var FormatFunc = function.New(&function.Spec{
	Description: "Formats args with the printf-like verbs of format; null when any argument is null.",
	Params:      []function.Parameter{{Name: "format", Type: cty.String}},
	VarParam: &function.Parameter{Name: "args", Type: cty.DynamicPseudoType,
		AllowNull: true, AllowUnknown: true, AllowDynamicType: true},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		for _, a := range args[1:] {
			if a.IsKnown() && a.IsNull() {
				return cty.NullVal(cty.String), nil
			}
		}
		return stdlib.FormatFunc.Call(args)
	},
})
