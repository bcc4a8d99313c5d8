package lang

import (
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// reservedRoots are the root names that are not resource types.
var reservedRoots = []string{"var", "local", "host", "count", "each", "path", "self", "step", "data"}

// ExprRefs lists the references of expr; an invalid reference (`var`
// without a name, an unknown root like `vars.x`) is a diagnostic that
// suggests the nearest valid root.
func ExprRefs(expr hcl.Expression) ([]Ref, hcl.Diagnostics) {
	if expr == nil {
		return nil, nil
	}
	return TraversalRefs(expr.Variables())
}

// BodyRefs lists the references of a body decoded with spec, including
// those of `dynamic` blocks (but not their iterator variables).
func BodyRefs(body hcl.Body, spec hcldec.Spec) ([]Ref, hcl.Diagnostics) {
	if body == nil {
		return nil, nil
	}
	if !reflect.TypeOf(body).Comparable() {
		return TraversalRefs(dynblock.VariablesHCLDec(body, spec))
	}
	if e, ok := bodyRefs.Load(body); ok {
		e := e.(refsEntry)
		return e.refs, e.diags
	}
	refs, diags := TraversalRefs(dynblock.VariablesHCLDec(body, spec))
	bodyRefs.Store(body, refsEntry{refs: refs, diags: diags})
	return refs, diags
}

// bodyRefs remembers the references of each body: every instance of a
// counted resource evaluates the same body. A body is always decoded with
// the same spec (its block's schema), and bodies never change once parsed.
var bodyRefs sync.Map

type refsEntry struct {
	refs  []Ref
	diags hcl.Diagnostics
}

// TraversalRefs turns traversals (depends_on / after entries, or the
// variables of an expression) into references.
func TraversalRefs(travs []hcl.Traversal) ([]Ref, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	refs := make([]Ref, 0, len(travs))
	for _, t := range travs {
		ref, d := parseRef(t)
		if d != nil {
			diags = append(diags, d)
			continue
		}
		refs = append(refs, ref)
	}
	return refs, diags
}

func traversalRange(t hcl.Traversal) hcl.Range {
	return hcl.RangeBetween(t[0].SourceRange(), t[len(t)-1].SourceRange())
}

func badRef(t hcl.Traversal, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid reference",
		Detail:   detail,
		Subject:  traversalRange(t).Ptr(),
	}
}

// attrStep returns the name of step i of t when it is an attribute access.
func attrStep(t hcl.Traversal, i int) (string, bool) {
	if i >= len(t) {
		return "", false
	}
	a, ok := t[i].(hcl.TraverseAttr)
	return a.Name, ok
}

// parseRef reads one traversal as a reference.
func parseRef(t hcl.Traversal) (Ref, *hcl.Diagnostic) {
	if len(t) == 0 {
		return Ref{}, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid reference", Detail: "A reference needs at least a name."}
	}
	root := t.RootName()
	named := func(kind RefKind, example string) (Ref, *hcl.Diagnostic) {
		name, ok := attrStep(t, 1)
		if !ok {
			return Ref{}, badRef(t, fmt.Sprintf("The %q object cannot be used on its own; name one of its members, like %s.", root, example))
		}
		return Ref{Kind: kind, Name: name, Range: traversalRange(t[:2]), Remaining: t[2:]}, nil
	}
	fixed := func(kind RefKind, allowed ...string) (Ref, *hcl.Diagnostic) {
		name, ok := attrStep(t, 1)
		if !ok || !slices.Contains(allowed, name) {
			detail := fmt.Sprintf("The %q object has the attributes %s.", root, joinRefs(root, allowed))
			if ok {
				detail = fmt.Sprintf("The %q object has no attribute %q; it has %s.", root, name, joinRefs(root, allowed))
			}
			return Ref{}, badRef(t, detail)
		}
		return Ref{Kind: kind, Name: name, Range: traversalRange(t[:2]), Remaining: t[2:]}, nil
	}
	switch root {
	case "var":
		return named(RefVar, "var.region")
	case "local":
		return named(RefLocal, "local.prefix")
	case "host":
		return named(RefHost, "host.fs1")
	case "step":
		return named(RefStep, "step.prepare")
	case "count":
		return fixed(RefCount, "index")
	case "each":
		return fixed(RefEach, "key", "value")
	case "path":
		return fixed(RefPath, "module", "root", "cwd")
	case "self":
		return Ref{Kind: RefSelf, Range: t[0].SourceRange(), Remaining: t[1:]}, nil
	case "data":
		typ, ok1 := attrStep(t, 1)
		name, ok2 := attrStep(t, 2)
		if !ok1 || !ok2 {
			return Ref{}, badRef(t, "A data source is referred to as data.TYPE.NAME, like data.value.current.")
		}
		return resourceRef(t, addrs.Resource{Mode: addrs.Data, Type: typ, Name: name}, 3), nil
	}
	name, ok := attrStep(t, 1)
	if s := reservedTypo(root); s != "" {
		return Ref{}, badRef(t, fmt.Sprintf("There is no object named %q. Did you mean %q?", root, s))
	}
	if !ok {
		return Ref{}, badRef(t, fmt.Sprintf("A reference to a resource names the resource after its type, like %s.NAME; %q alone refers to nothing.", root, root))
	}
	return resourceRef(t, addrs.Resource{Mode: addrs.Managed, Type: root, Name: name}, 2), nil
}

// resourceRef builds a resource reference whose name ends at step n-1 of
// t, taking a literal instance key (value.x[2], file.cfg["a"]) when one
// follows.
func resourceRef(t hcl.Traversal, r addrs.Resource, n int) Ref {
	ref := Ref{Kind: RefResource, Resource: r, Range: traversalRange(t[:n]), Remaining: t[n:]}
	if n < len(t) {
		if idx, ok := t[n].(hcl.TraverseIndex); ok {
			if k, ok := instanceKey(idx.Key); ok {
				ref.Key = &k
				ref.Range = traversalRange(t[:n+1])
				ref.Remaining = t[n+1:]
			}
		}
	}
	return ref
}

func instanceKey(v cty.Value) (addrs.Key, bool) {
	if v.IsNull() || !v.IsKnown() {
		return addrs.Key{}, false
	}
	switch v.Type() {
	case cty.String:
		return addrs.StrK(v.AsString()), true
	case cty.Number:
		bf := v.AsBigFloat()
		i, acc := bf.Int64()
		if acc != 0 || i < 0 || i > 1<<31 {
			return addrs.Key{}, false
		}
		return addrs.IntK(int(i)), true
	}
	return addrs.Key{}, false
}

func joinRefs(root string, names []string) string {
	s := ""
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			s += " and "
		default:
			s += ", "
		}
		s += root + "." + n
	}
	if len(names) == 1 {
		return "only " + s
	}
	return s
}

// reservedTypo returns the reserved root that root is one edit away from
// (vars, locals, hosts, ...), or "". Such a root would otherwise read as a
// resource type; names under four letters are left alone, as real types
// may be that short. It runs for every resource reference, so it avoids
// allocating.
func reservedTypo(root string) string {
	if len(root) < 4 || len(root) > 6 {
		return ""
	}
	for _, r := range reservedRoots {
		if oneEditApart(root, r) {
			return r
		}
	}
	return ""
}

// oneEditApart tells whether a and b differ by exactly one inserted,
// deleted or replaced byte, or one swap of neighbouring bytes.
func oneEditApart(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	switch len(a) - len(b) {
	case 0:
		i := 0
		for i < len(a) && a[i] == b[i] {
			i++
		}
		if i == len(a) {
			return false
		}
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case 1:
		i := 0
		for i < len(b) && a[i] == b[i] {
			i++
		}
		return a[i+1:] == b[i:]
	}
	return false
}
