package funcs

import (
	"time"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

func timestampFunc(applyTime bool) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the current UTC time in RFC 3339 format; unknown while planning.",
		Params:      []function.Parameter{},
		Type:        function.StaticReturnType(cty.String),
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
			if !applyTime {
				return cty.UnknownVal(cty.String).RefineNotNull(), nil
			}
			return cty.StringVal(time.Now().UTC().Format(time.RFC3339)), nil
		},
	})
}

func planTimestampFunc(planTime time.Time) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the UTC time the plan was made in RFC 3339 format, the same while planning and applying.",
		Params:      []function.Parameter{},
		Type:        function.StaticReturnType(cty.String),
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
			if planTime.IsZero() {
				return cty.UnknownVal(cty.String).RefineNotNull(), nil
			}
			return cty.StringVal(planTime.UTC().Format(time.RFC3339)), nil
		},
	})
}

// TimeCmpFunc compares two RFC 3339 timestamps: -1, 0 or 1.
var TimeCmpFunc = function.New(&function.Spec{
	Description: "Compares two RFC 3339 timestamps, returning -1, 0 or 1.",
	Params: []function.Parameter{
		{Name: "timestamp_a", Type: cty.String},
		{Name: "timestamp_b", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		a, err := time.Parse(time.RFC3339, args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(0, "not an RFC 3339 timestamp: %s", err)
		}
		b, err := time.Parse(time.RFC3339, args[1].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgErrorf(1, "not an RFC 3339 timestamp: %s", err)
		}
		return cty.NumberIntVal(int64(a.Compare(b))), nil
	},
})
