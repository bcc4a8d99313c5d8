package funcs

import (
	"errors"
	"slices"
	"strconv"
	"strings"

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

// redacted stands where a diagnostic would have quoted a sensitive value.
const redacted = "(sensitive value)"

// SensitiveTexts lists how the sensitive parts of v may appear in a
// message: every string and number at or under a path of paths, and every
// part of v marked sensitive itself. v may be marked or not.
func SensitiveTexts(v cty.Value, paths []cty.Path) []string {
	v, pvm := v.UnmarkDeepWithPaths()
	for _, pm := range pvm {
		if _, ok := pm.Marks[SensitiveMark]; ok {
			paths = append(paths, pm.Path)
		}
	}
	var texts []string
	for _, p := range paths {
		part, err := p.Apply(v)
		if err != nil {
			continue
		}
		cty.Walk(part, func(_ cty.Path, x cty.Value) (bool, error) {
			if !x.IsKnown() || x.IsNull() {
				return false, nil
			}
			switch x.Type() {
			case cty.String:
				texts = append(texts, x.AsString())
			case cty.Number:
				texts = append(texts, x.AsBigFloat().Text('f', -1), x.AsBigFloat().String())
			}
			return true, nil
		})
	}
	return texts
}

// Redact replaces in msg every occurrence of the texts, as they are and as
// Go's %q would escape them, with "(sensitive value)". Longer texts go
// first, so that a secret holding another is replaced whole. A text shorter
// than shortText is replaced only where it stands quoted ("0"): replacing
// every "0" or newline of a message would leave nothing readable, while a
// provider or function quoting the value still has it taken out.
func Redact(msg string, texts []string) string {
	type form struct{ old, new string }
	var forms []form
	for _, t := range texts {
		q := strconv.Quote(t)
		switch {
		case t == "":
		case len(t) < shortText:
			forms = append(forms, form{q, `"` + redacted + `"`})
		default:
			forms = append(forms, form{t, redacted})
			if q[1:len(q)-1] != t {
				forms = append(forms, form{q[1 : len(q)-1], redacted})
			}
		}
	}
	slices.SortFunc(forms, func(a, b form) int { return len(b.old) - len(a.old) })
	for _, f := range forms {
		msg = strings.ReplaceAll(msg, f.old, f.new)
	}
	return msg
}

// shortText is the length below which Redact replaces a text only quoted.
const shortText = 4

// redactingFunc is f, except that an error it reports never quotes an
// argument that is sensitive: `tonumber(var.pw)` would otherwise say
// `cannot convert "S3CRET" to number`. It takes every argument as given
// (marked, null, unknown) and leaves f to judge them as before.
func redactingFunc(f function.Function) function.Function {
	open := func(p function.Parameter) function.Parameter {
		p.AllowMarked, p.AllowNull, p.AllowUnknown, p.AllowDynamicType = true, true, true, true
		return p
	}
	params := f.Params()
	for i := range params {
		params[i] = open(params[i])
	}
	var varParam *function.Parameter
	if vp := f.VarParam(); vp != nil {
		p := open(*vp)
		varParam = &p
	}
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      params,
		VarParam:    varParam,
		// f.Call checks the arguments and gives the type; doing it here too
		// would cost every call twice.
		Type: function.StaticReturnType(cty.DynamicPseudoType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, err := f.Call(args)
			return v, redactErr(err, args)
		},
	})
}

// redactErr rewrites err without the texts of the sensitive parts of args,
// keeping which argument it is about.
func redactErr(err error, args []cty.Value) error {
	if err == nil {
		return nil
	}
	var texts []string
	for _, a := range args {
		texts = append(texts, SensitiveTexts(a, nil)...)
	}
	msg := Redact(err.Error(), texts)
	if msg == err.Error() {
		return err
	}
	var ae function.ArgError
	if errors.As(err, &ae) {
		return function.NewArgError(ae.Index, errors.New(msg))
	}
	return errors.New(msg)
}
