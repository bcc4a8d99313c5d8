package funcs

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

func anyParam(name string) function.Parameter {
	return function.Parameter{
		Name: name, Type: cty.DynamicPseudoType,
		AllowNull: true, AllowUnknown: true, AllowDynamicType: true, AllowMarked: true,
	}
}

// SensitiveFunc marks a value sensitive: it is redacted from plans and
// output, and so is everything derived from it.
var SensitiveFunc = function.New(&function.Spec{
	Description: "Marks value as sensitive.",
	Params:      []function.Parameter{anyParam("value")},
	Type:        func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return args[0].Mark(SensitiveMark), nil
	},
})

// NonsensitiveFunc removes the sensitive mark from the value itself
// (not from values nested inside it).
var NonsensitiveFunc = function.New(&function.Spec{
	Description: "Removes the sensitive mark of value.",
	Params:      []function.Parameter{anyParam("value")},
	Type:        func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, marks := args[0].Unmark()
		delete(marks, SensitiveMark)
		return v.WithMarks(marks), nil
	},
})

// IsSensitiveFunc tells whether a value is marked sensitive.
var IsSensitiveFunc = function.New(&function.Spec{
	Description: "Returns true when value is marked sensitive.",
	Params:      []function.Parameter{anyParam("value")},
	Type:        function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.BoolVal(args[0].HasMark(SensitiveMark)), nil
	},
})
