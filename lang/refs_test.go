package lang

import (
	"strings"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// refSummary is the part of a Ref the tests compare.
type refSummary struct {
	Kind      RefKind
	Name      string
	Resource  string
	Key       string
	Remaining int
	Range     string
}

func summarize(refs []Ref) []refSummary {
	var out []refSummary
	for _, r := range refs {
		s := refSummary{Kind: r.Kind, Name: r.Name, Remaining: len(r.Remaining),
			Range: src(r.Range)}
		if r.Kind == RefResource {
			s.Resource = r.Resource.String()
		}
		if r.Key != nil {
			s.Key = r.Key.String()
		}
		out = append(out, s)
	}
	return out
}

// src is the source text a range covers in the expression under test.
var testSource string

func src(r hcl.Range) string { return testSource[r.Start.Byte:r.End.Byte] }

func parseExpr(t *testing.T, s string) hcl.Expression {
	t.Helper()
	testSource = s
	expr, diags := hclsyntax.ParseExpression([]byte(s), "test.dr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse %q: %s", s, diags.Error())
	}
	return expr
}

func TestExprRefs(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		want    []refSummary
		wantErr string
	}{
		{name: "var", expr: "var.region", want: []refSummary{{Kind: RefVar, Name: "region", Range: "var.region"}}},
		{name: "var attribute", expr: "var.disks.a", want: []refSummary{{Kind: RefVar, Name: "disks", Remaining: 1, Range: "var.disks"}}},
		{name: "local", expr: "local.prefix", want: []refSummary{{Kind: RefLocal, Name: "prefix", Range: "local.prefix"}}},
		{name: "host", expr: "host.fs1.address", want: []refSummary{{Kind: RefHost, Name: "fs1", Remaining: 1, Range: "host.fs1"}}},
		{name: "count", expr: "count.index", want: []refSummary{{Kind: RefCount, Name: "index", Range: "count.index"}}},
		{name: "each", expr: "each.value.size", want: []refSummary{{Kind: RefEach, Name: "value", Remaining: 1, Range: "each.value"}}},
		{name: "path", expr: "path.module", want: []refSummary{{Kind: RefPath, Name: "module", Range: "path.module"}}},
		{name: "self", expr: "self.id", want: []refSummary{{Kind: RefSelf, Remaining: 1, Range: "self"}}},
		{name: "step", expr: "step.pre", want: []refSummary{{Kind: RefStep, Name: "pre", Range: "step.pre"}}},
		{name: "resource", expr: "value.x", want: []refSummary{{Kind: RefResource, Resource: "value.x", Range: "value.x"}}},
		{name: "resource instance", expr: "value.x[2].output", want: []refSummary{{Kind: RefResource, Resource: "value.x", Key: "[2]", Remaining: 1, Range: "value.x[2]"}}},
		{name: "resource string key", expr: `file.cfg["a"].path`, want: []refSummary{{Kind: RefResource, Resource: "file.cfg", Key: `["a"]`, Remaining: 1, Range: `file.cfg["a"]`}}},
		{name: "resource dynamic index", expr: "value.x[count.index].output", want: []refSummary{
			{Kind: RefResource, Resource: "value.x", Range: "value.x"},
			{Kind: RefCount, Name: "index", Range: "count.index"},
		}},
		{name: "data", expr: "data.value.y.output", want: []refSummary{{Kind: RefResource, Resource: "data.value.y", Remaining: 1, Range: "data.value.y"}}},
		{name: "template and function", expr: `"${upper(var.a)}-${local.b}"`, want: []refSummary{
			{Kind: RefVar, Name: "a", Range: "var.a"},
			{Kind: RefLocal, Name: "b", Range: "local.b"},
		}},
		{name: "for expression hides its iterator", expr: `[for d in var.disks : d.path]`, want: []refSummary{{Kind: RefVar, Name: "disks", Range: "var.disks"}}},
		{name: "var alone", expr: "var", wantErr: `The "var" object cannot be used on its own; name one of its members, like var.region.`},
		{name: "var index", expr: `var["x"]`, wantErr: `The "var" object cannot be used on its own`},
		{name: "count attribute", expr: "count.foo", wantErr: `The "count" object has no attribute "foo"; it has only count.index.`},
		{name: "each attribute", expr: "each.index", wantErr: `it has each.key and each.value.`},
		{name: "path attribute", expr: "path.modul", wantErr: `it has path.module, path.root and path.cwd.`},
		{name: "data without name", expr: "data.value", wantErr: "data.TYPE.NAME"},
		{name: "resource type alone", expr: "value", wantErr: `"value" alone refers to nothing`},
		{name: "typo of var", expr: "vars.region", wantErr: `There is no object named "vars". Did you mean "var"?`},
		{name: "typo of local", expr: "locals.x", wantErr: `Did you mean "local"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, diags := ExprRefs(parseExpr(t, tt.expr))
			if tt.wantErr != "" {
				if !diags.HasErrors() {
					t.Fatalf("no error, refs %+v", summarize(refs))
				}
				if !strings.Contains(diags[0].Detail, tt.wantErr) {
					t.Fatalf("detail %q does not contain %q", diags[0].Detail, tt.wantErr)
				}
				if diags[0].Subject == nil {
					t.Fatal("diagnostic has no range")
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if diff := cmp.Diff(tt.want, summarize(refs)); diff != "" {
				t.Fatalf("refs differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTraversalRefs(t *testing.T) {
	testSource = "value.x"
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(testSource), "t", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	refs, diags := TraversalRefs([]hcl.Traversal{trav})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := addrs.Resource{Mode: addrs.Managed, Type: "value", Name: "x"}
	if len(refs) != 1 || refs[0].Resource != want {
		t.Fatalf("got %+v", refs)
	}
}

func TestBodyRefs(t *testing.T) {
	testSource = `
input = var.a
nested {
  path = local.b
}
dynamic "nested" {
  for_each = var.items
  content {
    path = nested.value
  }
}
`
	file, diags := hclsyntax.ParseConfig([]byte(testSource), "t.dr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	spec := hcldec.ObjectSpec{
		"input": &hcldec.AttrSpec{Name: "input", Type: cty.String},
		"nested": &hcldec.BlockListSpec{TypeName: "nested", Nested: hcldec.ObjectSpec{
			"path": &hcldec.AttrSpec{Name: "path", Type: cty.String},
		}},
	}
	refs, diags := BodyRefs(file.Body, spec)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := []refSummary{
		{Kind: RefVar, Name: "a", Range: "var.a"},
		{Kind: RefLocal, Name: "b", Range: "local.b"},
		{Kind: RefVar, Name: "items", Range: "var.items"},
	}
	got := summarize(refs)
	if diff := cmp.Diff(want, got, cmpSortRefs); diff != "" {
		t.Fatalf("refs differ (-want +got):\n%s", diff)
	}
}

var cmpSortRefs = cmp.Transformer("sort", func(in []refSummary) map[string]refSummary {
	out := map[string]refSummary{}
	for _, r := range in {
		out[r.Range] = r
	}
	return out
})

func TestReservedTypo(t *testing.T) {
	tests := []struct{ root, want string }{
		{"vars", "var"},
		{"locals", "local"},
		{"hosts", "host"},
		{"sefl", "self"},
		{"eahc", "each"},
		{"value", ""},
		{"drive", ""},
		{"var", ""},
		{"vr", ""},
		{"network_identity", ""},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			if got := reservedTypo(tt.root); got != tt.want {
				t.Fatalf("reservedTypo(%q) = %q, want %q", tt.root, got, tt.want)
			}
		})
	}
}
