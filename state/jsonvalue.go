package state

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"sync"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// appendValue appends v in go-cty's JSON form for its own type (what
// ctyjson.Marshal(v, v.Type()) writes), about three times faster: whole
// numbers skip big.Float formatting, and the path is built only on error.
// ctyjson.Unmarshal reads it back.
func appendValue(b []byte, v cty.Value) ([]byte, error) {
	b, err := appendValueAt(b, v)
	if err != nil {
		ve := err.(*valueError)
		slices.Reverse(ve.rev)
		return b, ve.rev.NewError(ve)
	}
	return b, nil
}

// valueError collects the path to a bad part of a value in reverse, as the
// recursion unwinds.
type valueError struct {
	msg string
	rev cty.Path
}

func (e *valueError) Error() string { return e.msg }

func (e *valueError) at(step cty.PathStep) *valueError {
	e.rev = append(e.rev, step)
	return e
}

func appendValueAt(b []byte, v cty.Value) ([]byte, error) {
	if v.IsMarked() {
		return b, &valueError{msg: "value has marks, so it cannot be serialized as JSON"}
	}
	if !v.IsKnown() {
		return b, &valueError{msg: "value is not known"}
	}
	if v.IsNull() {
		return append(b, "null"...), nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return appendString(b, v.AsString()), nil
	case t == cty.Number:
		f := v.AsBigFloat()
		if i, acc := f.Int64(); acc == big.Exact {
			return strconv.AppendInt(b, i, 10), nil
		}
		if err := checkMagnitude(f); err != nil {
			return b, err
		}
		return f.Append(b, 'f', -1), nil
	case t == cty.Bool:
		return strconv.AppendBool(b, v.True()), nil
	case t.IsListType(), t.IsSetType(), t.IsTupleType():
		b = append(b, '[')
		for i, it := 0, v.ElementIterator(); it.Next(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			k, ev := it.Element()
			var err error
			if b, err = appendValueAt(b, ev); err != nil {
				return b, err.(*valueError).at(cty.IndexStep{Key: k})
			}
		}
		return append(b, ']'), nil
	case t.IsMapType():
		b = append(b, '{')
		for i, it := 0, v.ElementIterator(); it.Next(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			k, ev := it.Element()
			b = appendString(b, k.AsString())
			b = append(b, ':')
			var err error
			if b, err = appendValueAt(b, ev); err != nil {
				return b, err.(*valueError).at(cty.IndexStep{Key: k})
			}
		}
		return append(b, '}'), nil
	case t.IsObjectType():
		// An object's iterator yields attributes in name order, as
		// ctyjson writes them.
		b = append(b, '{')
		for i, it := 0, v.ElementIterator(); it.Next(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			k, ev := it.Element()
			name := k.AsString()
			b = appendString(b, name)
			b = append(b, ':')
			var err error
			if b, err = appendValueAt(b, ev); err != nil {
				return b, err.(*valueError).at(cty.GetAttrStep{Name: name})
			}
		}
		return append(b, '}'), nil
	}
	return b, &valueError{msg: "cannot store a value of type " + t.FriendlyName()}
}

// valueFromJSON builds a value of type t from JSON decoded into Go values
// (with json.Number for numbers), so that a document is parsed once rather
// than once per nesting level as ctyjson.Unmarshal does. It reads what
// appendValue writes; values whose type has dynamic parts carry their own
// type inline and go through ctyjson.
func valueFromJSON(x any, t cty.Type) (cty.Value, error) {
	v, err := valueFromJSONAt(x, t)
	if err != nil {
		ve := err.(*valueError)
		slices.Reverse(ve.rev)
		return cty.NilVal, ve.rev.NewError(ve)
	}
	return v, nil
}

func valueFromJSONAt(x any, t cty.Type) (cty.Value, error) {
	if x == nil {
		return cty.NullVal(t), nil
	}
	mismatch := func() error {
		return &valueError{msg: fmt.Sprintf("%s is not a %s", jsonKind(x), t.FriendlyName())}
	}
	switch {
	case t == cty.String:
		s, ok := x.(string)
		if !ok {
			return cty.NilVal, mismatch()
		}
		return cty.StringVal(s), nil
	case t == cty.Number:
		n, ok := x.(json.Number)
		if !ok {
			return cty.NilVal, mismatch()
		}
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return cty.NumberIntVal(i), nil
		}
		v, err := cty.ParseNumberVal(string(n))
		if err != nil {
			return cty.NilVal, &valueError{msg: err.Error()}
		}
		if err := checkMagnitude(v.AsBigFloat()); err != nil {
			return cty.NilVal, err
		}
		return v, nil
	case t == cty.DynamicPseudoType:
		// A value of an attribute typed "any" carries its own type, as
		// go-cty's JSON writes it: {"value": ..., "type": ...}.
		obj, ok := x.(map[string]any)
		if !ok || len(obj) != 2 {
			return cty.NilVal, &valueError{msg: "a value of dynamic type must be {\"value\": ..., \"type\": ...}"}
		}
		rawType, err := json.Marshal(obj["type"])
		if err != nil {
			return cty.NilVal, &valueError{msg: err.Error()}
		}
		ty, err := dynamicType(rawType)
		if err != nil {
			return cty.NilVal, &valueError{msg: "bad type: " + err.Error()}
		}
		if ty == cty.DynamicPseudoType {
			return cty.NilVal, &valueError{msg: "a dynamic value needs a concrete type"}
		}
		return valueFromJSONAt(obj["value"], ty)
	case t == cty.Bool:
		b, ok := x.(bool)
		if !ok {
			return cty.NilVal, mismatch()
		}
		return cty.BoolVal(b), nil
	case t.IsListType(), t.IsSetType(), t.IsTupleType():
		arr, ok := x.([]any)
		if !ok {
			return cty.NilVal, mismatch()
		}
		if t.IsTupleType() && len(arr) != t.Length() {
			return cty.NilVal, &valueError{msg: fmt.Sprintf("%d elements for a tuple of %d", len(arr), t.Length())}
		}
		vals := make([]cty.Value, len(arr))
		for i, ex := range arr {
			var et cty.Type
			if t.IsTupleType() {
				et = t.TupleElementType(i)
			} else {
				et = t.ElementType()
			}
			var err error
			if vals[i], err = valueFromJSONAt(ex, et); err != nil {
				return cty.NilVal, err.(*valueError).at(cty.IndexStep{Key: cty.NumberIntVal(int64(i))})
			}
		}
		switch {
		case t.IsTupleType():
			return cty.TupleVal(vals), nil
		case len(vals) == 0 && t.IsListType():
			return cty.ListValEmpty(t.ElementType()), nil
		case len(vals) == 0:
			return cty.SetValEmpty(t.ElementType()), nil
		case t.IsListType():
			return cty.ListVal(vals), nil
		}
		return cty.SetVal(vals), nil
	case t.IsMapType():
		obj, ok := x.(map[string]any)
		if !ok {
			return cty.NilVal, mismatch()
		}
		if len(obj) == 0 {
			return cty.MapValEmpty(t.ElementType()), nil
		}
		vals := make(map[string]cty.Value, len(obj))
		for k, ex := range obj {
			var err error
			if vals[k], err = valueFromJSONAt(ex, t.ElementType()); err != nil {
				return cty.NilVal, err.(*valueError).at(cty.IndexStep{Key: cty.StringVal(k)})
			}
		}
		return cty.MapVal(vals), nil
	case t.IsObjectType():
		obj, ok := x.(map[string]any)
		if !ok {
			return cty.NilVal, mismatch()
		}
		atys := t.AttributeTypes()
		vals := make(map[string]cty.Value, len(atys))
		for k, ex := range obj {
			aty, ok := atys[k]
			if !ok {
				return cty.NilVal, &valueError{msg: fmt.Sprintf("unsupported attribute %q", k)}
			}
			var err error
			if vals[k], err = valueFromJSONAt(ex, aty); err != nil {
				return cty.NilVal, err.(*valueError).at(cty.GetAttrStep{Name: k})
			}
		}
		for k, aty := range atys {
			if _, ok := vals[k]; !ok {
				vals[k] = cty.NullVal(aty)
			}
		}
		return cty.ObjectVal(vals), nil
	}
	return cty.NilVal, &valueError{msg: "cannot read a value of type " + t.FriendlyName()}
}

// maxExp bounds the binary exponent of a stored number (about 1e±1233).
// Writing a number in full costs time in proportion to its exponent, and
// 1e1000000000 is a short string; no attribute needs more.
const maxExp = 4096

func checkMagnitude(f *big.Float) error {
	if f.IsInf() {
		return &valueError{msg: "cannot store infinity"}
	}
	if exp := f.MantExp(nil); exp > maxExp || exp < -maxExp {
		return &valueError{msg: "number " + f.Text('g', 10) + " is too large or too small to store"}
	}
	return nil
}

func jsonKind(x any) string {
	switch x.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

// dynamicTypes remembers parsed types of dynamic values: a state holds the
// same few over and over.
var dynamicTypes sync.Map

func dynamicType(raw []byte) (cty.Type, error) {
	if t, ok := dynamicTypes.Load(string(raw)); ok {
		return t.(cty.Type), nil
	}
	t, err := ctyjson.UnmarshalType(raw)
	if err != nil {
		return cty.NilType, err
	}
	dynamicTypes.Store(string(raw), t)
	return t, nil
}
