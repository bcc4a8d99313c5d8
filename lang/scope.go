package lang

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang/funcs"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// folderShared is what every Scope of one configuration folder shares:
// built on first use, read-only afterwards.
type folderShared struct {
	functions map[string]function.Function
	absDir    string
}

type folderKey struct {
	dir       string
	applyTime bool
	planTime  int64 // Unix seconds, 0 when unset
}

// folders caches folderShared by folder, so that a Scope made per
// instance (the planner makes one per evaluation) never rebuilds the
// function table.
var folders sync.Map

func sharedFor(dir string, applyTime bool, planTime time.Time) *folderShared {
	k := folderKey{dir, applyTime, 0}
	if !planTime.IsZero() {
		k.planTime = planTime.Unix()
	}
	if v, ok := folders.Load(k); ok {
		return v.(*folderShared)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	v, _ := folders.LoadOrStore(k, &folderShared{
		functions: funcs.Table(funcs.Options{BaseDir: dir, ApplyTime: applyTime, PlanTime: planTime}),
		absDir:    filepath.ToSlash(abs),
	})
	return v.(*folderShared)
}

// EvalExpr evaluates expr and converts the result to want
// (cty.DynamicPseudoType for any).
func (s *Scope) EvalExpr(expr hcl.Expression, want cty.Type) (cty.Value, hcl.Diagnostics) {
	v, _, diags := s.evalExpr(expr, want)
	return v, diags
}

// evalExpr is EvalExpr that also returns the context used, for
// diagnostics that show the values an expression saw.
func (s *Scope) evalExpr(expr hcl.Expression, want cty.Type) (cty.Value, *hcl.EvalContext, hcl.Diagnostics) {
	if expr == nil {
		return cty.NullVal(want), nil, nil
	}
	refs, diags := ExprRefs(expr)
	ctx, d := s.evalContext(refs)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return cty.UnknownVal(want), ctx, diags
	}
	val, d := expr.Value(ctx)
	diags = append(diags, d...)
	if d.HasErrors() {
		return cty.UnknownVal(want), ctx, diags
	}
	if want != cty.DynamicPseudoType {
		conv, err := convert.Convert(val, want)
		if err != nil {
			return cty.UnknownVal(want), ctx, append(diags, &hcl.Diagnostic{
				Severity:    hcl.DiagError,
				Summary:     "Incorrect value type",
				Detail:      fmt.Sprintf("Invalid expression value: %s.", formatValueError(err)),
				Subject:     expr.Range().Ptr(),
				Expression:  expr,
				EvalContext: ctx,
			})
		}
		val = conv
	}
	return val, ctx, diags
}

// EvalBody decodes body with spec and evaluates it, expanding `dynamic`
// blocks. Unknown argument names get a suggestion of the nearest valid one.
func (s *Scope) EvalBody(body hcl.Body, spec hcldec.Spec) (cty.Value, hcl.Diagnostics) {
	if body == nil {
		body = hcl.EmptyBody()
	}
	refs, diags := BodyRefs(body, spec)
	ctx, d := s.evalContext(refs)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return cty.UnknownVal(hcldec.ImpliedType(spec)), diags
	}
	if hasDynamicBlocks(body) {
		body = dynblock.Expand(body, ctx)
	}
	val, d := hcldec.Decode(body, spec, ctx)
	return val, append(diags, d...)
}

// hasDynamicBlocks reports whether body has a `dynamic` block at any
// depth; bodies of the JSON syntax are assumed to. Most bodies have few
// nested blocks or none, so a walk costs less than remembering the answer.
func hasDynamicBlocks(body hcl.Body) bool {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return true
	}
	for _, blk := range sb.Blocks {
		if blk.Type == "dynamic" || hasDynamicBlocks(blk.Body) {
			return true
		}
	}
	return false
}

// formatValueError writes a conversion error with the path it concerns.
func formatValueError(err error) string {
	var pe cty.PathError
	if !errors.As(err, &pe) || len(pe.Path) == 0 {
		return err.Error()
	}
	var b strings.Builder
	for _, step := range pe.Path {
		switch st := step.(type) {
		case cty.GetAttrStep:
			fmt.Fprintf(&b, ".%s", st.Name)
		case cty.IndexStep:
			switch {
			case st.Key.Type() == cty.String:
				fmt.Fprintf(&b, "[%q]", st.Key.AsString())
			case st.Key.Type() == cty.Number:
				fmt.Fprintf(&b, "[%s]", st.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	return fmt.Sprintf("attribute %s: %s", strings.TrimPrefix(b.String(), "."), pe.Error())
}

// refValues gathers the values of one kind of named reference.
type refValues map[string]cty.Value

func (m *refValues) put(name string, v cty.Value) {
	if *m == nil {
		*m = refValues{}
	}
	(*m)[name] = v
}

func (m refValues) has(name string) bool {
	_, ok := m[name]
	return ok
}

func undeclaredRef(kind, name string, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Reference to undeclared " + kind,
		Detail:   fmt.Sprintf("There is no %s named %s in this configuration. Declare it, or correct the reference.", kind, quoteName(name)),
		Subject:  rng.Ptr(),
	}
}

// evalContext builds a context holding exactly what refs name, looked up
// through s.Data. Its cost is proportional to len(refs), never to the size
// of the configuration.
func (s *Scope) evalContext(refs []Ref) (*hcl.EvalContext, hcl.Diagnostics) {
	shared := sharedFor(s.BaseDir, s.ApplyTime, s.PlanTime)
	ctx := &hcl.EvalContext{Functions: shared.functions}
	if len(refs) == 0 {
		return ctx, nil
	}
	var diags hcl.Diagnostics
	var vars, locals, hosts, steps, count, each, path refValues
	var self cty.Value
	var managed, data map[string]refValues
	lookup := func(get func(Data) cty.Value) cty.Value {
		if s.Data == nil {
			return cty.NilVal
		}
		return get(s.Data)
	}
	named := func(m *refValues, kind string, ref Ref, get func(Data) cty.Value) {
		if m.has(ref.Name) {
			return
		}
		v := lookup(get)
		if v == cty.NilVal {
			diags = append(diags, undeclaredRef(kind, ref.Name, ref.Range))
			v = cty.DynamicVal
		}
		m.put(ref.Name, v)
	}
	for _, ref := range refs {
		switch ref.Kind {
		case RefVar:
			named(&vars, "variable", ref, func(d Data) cty.Value { return d.Var(ref.Name) })
		case RefLocal:
			named(&locals, "local value", ref, func(d Data) cty.Value { return d.Local(ref.Name) })
		case RefHost:
			named(&hosts, "host", ref, func(d Data) cty.Value { return d.Host(ref.Name) })
		case RefStep:
			sd, ok := s.Data.(StepData)
			if !ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid reference to a step",
					Detail:   "Steps are referred to only in the after list of another step, like after = [step.prepare].",
					Subject:  ref.Range.Ptr(),
				})
				continue
			}
			named(&steps, "step", ref, func(Data) cty.Value { return sd.Step(ref.Name) })
		case RefResource:
			byType := &managed
			if ref.Resource.Mode == addrs.Data {
				byType = &data
			}
			if *byType == nil {
				*byType = map[string]refValues{}
			}
			names := (*byType)[ref.Resource.Type]
			if names.has(ref.Resource.Name) {
				continue
			}
			v := lookup(func(d Data) cty.Value { return d.Resource(ref.Resource) })
			if v == cty.NilVal {
				diags = append(diags, undeclaredRef("resource", ref.Resource.String(), ref.Range))
				v = cty.DynamicVal
			}
			names.put(ref.Resource.Name, v)
			(*byType)[ref.Resource.Type] = names
		case RefCount:
			v, d := s.countValue(ref)
			if d != nil {
				diags = append(diags, d)
			}
			count.put(ref.Name, v)
		case RefEach:
			v, d := s.eachValue(ref)
			if d != nil {
				diags = append(diags, d)
			}
			each.put(ref.Name, v)
		case RefPath:
			switch ref.Name {
			case "module", "root":
				path.put(ref.Name, cty.StringVal(shared.absDir))
			case "cwd":
				wd, err := os.Getwd()
				if err != nil {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot find the working directory", Detail: err.Error(), Subject: ref.Range.Ptr()})
					continue
				}
				path.put(ref.Name, cty.StringVal(filepath.ToSlash(wd)))
			}
		case RefSelf:
			sd, ok := s.Data.(SelfData)
			if !ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  `Invalid "self" reference`,
					Detail:   `"self" has no meaning here: refer to the object by its address instead.`,
					Subject:  ref.Range.Ptr(),
				})
				continue
			}
			self = sd.Self()
		}
	}

	ctx.Variables = make(map[string]cty.Value, len(managed)+9)
	for _, r := range [...]struct {
		root string
		vals refValues
	}{{"var", vars}, {"local", locals}, {"host", hosts}, {"step", steps}, {"count", count}, {"each", each}, {"path", path}} {
		if r.vals != nil {
			ctx.Variables[r.root] = cty.ObjectVal(r.vals)
		}
	}
	for typ, m := range managed {
		ctx.Variables[typ] = cty.ObjectVal(m)
	}
	if data != nil {
		byType := make(map[string]cty.Value, len(data))
		for typ, m := range data {
			byType[typ] = cty.ObjectVal(m)
		}
		ctx.Variables["data"] = cty.ObjectVal(byType)
	}
	if self != cty.NilVal {
		ctx.Variables["self"] = self
	}
	return ctx, diags
}

func (s *Scope) countValue(ref Ref) (cty.Value, *hcl.Diagnostic) {
	switch s.Instance.Key.Kind {
	case addrs.IntKey:
		return cty.NumberIntVal(int64(s.Instance.Key.Int)), nil
	case addrs.StrKey:
		return cty.UnknownVal(cty.Number), &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  `Reference to "count" in non-counted context`,
			Detail:   "This instance comes from for_each: use each.key or each.value.",
			Subject:  ref.Range.Ptr(),
		}
	}
	return cty.UnknownVal(cty.Number), nil
}

func (s *Scope) eachValue(ref Ref) (cty.Value, *hcl.Diagnostic) {
	switch s.Instance.Key.Kind {
	case addrs.StrKey:
		if ref.Name == "key" {
			return cty.StringVal(s.Instance.Key.Str), nil
		}
		if s.Instance.EachValue == cty.NilVal {
			return cty.DynamicVal, nil
		}
		return s.Instance.EachValue, nil
	case addrs.IntKey:
		return cty.DynamicVal, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  `Reference to "each" in context without for_each`,
			Detail:   "This instance comes from count: use count.index.",
			Subject:  ref.Range.Ptr(),
		}
	}
	if ref.Name == "key" {
		return cty.UnknownVal(cty.String), nil
	}
	return cty.DynamicVal, nil
}
