package lang

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// testData answers references from maps and counts the lookups.
type testData struct {
	vars, locals, hosts map[string]cty.Value
	resources           map[addrs.Resource]cty.Value
	lookups             atomic.Int64
}

func (d *testData) get(m map[string]cty.Value, name string) cty.Value {
	d.lookups.Add(1)
	if v, ok := m[name]; ok {
		return v
	}
	return cty.NilVal
}

func (d *testData) Var(name string) cty.Value   { return d.get(d.vars, name) }
func (d *testData) Local(name string) cty.Value { return d.get(d.locals, name) }
func (d *testData) Host(name string) cty.Value  { return d.get(d.hosts, name) }
func (d *testData) Resource(a addrs.Resource) cty.Value {
	d.lookups.Add(1)
	if v, ok := d.resources[a]; ok {
		return v
	}
	return cty.NilVal
}

// stepData adds step and self references.
type stepData struct{ testData }

func (d *stepData) Step(name string) cty.Value {
	if name == "pre" {
		return cty.ObjectVal(map[string]cty.Value{"status": cty.StringVal("done")})
	}
	return cty.NilVal
}
func (d *stepData) Self() cty.Value {
	return cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("me")})
}

func res(typ, name string) addrs.Resource {
	return addrs.Resource{Mode: addrs.Managed, Type: typ, Name: name}
}

func newTestData() *testData {
	out := func(s string) cty.Value { return cty.ObjectVal(map[string]cty.Value{"output": cty.StringVal(s)}) }
	return &testData{
		vars: map[string]cty.Value{
			"region":   cty.StringVal("eu"),
			"n":        cty.NumberIntVal(3),
			"password": cty.StringVal("hunter2").Mark(SensitiveMark),
			"later":    cty.UnknownVal(cty.String),
			"latermap": cty.UnknownVal(cty.Map(cty.String)),
		},
		locals: map[string]cty.Value{"prefix": cty.StringVal("dr")},
		hosts:  map[string]cty.Value{"fs1": cty.ObjectVal(map[string]cty.Value{"address": cty.StringVal("fs1.example.net")})},
		resources: map[addrs.Resource]cty.Value{
			res("value", "x"):                            cty.TupleVal([]cty.Value{out("a"), out("b")}),
			res("value", "one"):                          out("single"),
			{Mode: addrs.Data, Type: "value", Name: "y"}: out("read"),
		},
	}
}

func TestEvalExpr(t *testing.T) {
	absDir, _ := filepath.Abs("testdata")
	tests := []struct {
		name    string
		expr    string
		inst    Instance
		want    cty.Value
		wantErr string
	}{
		{name: "variable", expr: "var.region", want: cty.StringVal("eu")},
		{name: "template", expr: `"${local.prefix}-${var.region}"`, want: cty.StringVal("dr-eu")},
		{name: "host attribute", expr: "host.fs1.address", want: cty.StringVal("fs1.example.net")},
		{name: "resource instance", expr: "value.x[1].output", want: cty.StringVal("b")},
		{name: "resource splat", expr: "value.x[*].output", want: cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})},
		{name: "single resource", expr: "value.one.output", want: cty.StringVal("single")},
		{name: "data source", expr: "data.value.y.output", want: cty.StringVal("read")},
		{name: "two resources of one type", expr: `"${value.one.output}/${value.x[0].output}"`, want: cty.StringVal("single/a")},
		{name: "count index", expr: "value.x[count.index].output", inst: Instance{Key: addrs.IntK(1)}, want: cty.StringVal("b")},
		{name: "count index outside instance", expr: "count.index", want: cty.UnknownVal(cty.Number)},
		{name: "each key and value", expr: `"${each.key}=${each.value}"`, inst: Instance{Key: addrs.StrK("a"), EachValue: cty.StringVal("/dev/sdc")}, want: cty.StringVal("a=/dev/sdc")},
		{name: "each in counted instance", expr: "each.key", inst: Instance{Key: addrs.IntK(0)}, wantErr: `Reference to "each" in context without for_each`},
		{name: "count in for_each instance", expr: "count.index", inst: Instance{Key: addrs.StrK("a")}, wantErr: `Reference to "count" in non-counted context`},
		{name: "path module", expr: "path.module", want: cty.StringVal(filepath.ToSlash(absDir))},
		{name: "function", expr: `upper(var.region)`, want: cty.StringVal("EU")},
		{name: "network function", expr: `cidrsubnet("10.0.0.0/16", 8, var.n)`, want: cty.StringVal("10.0.3.0/24")},
		{name: "try", expr: `try(var.region.missing, "fallback")`, want: cty.StringVal("fallback")},
		{name: "can", expr: `can(var.region.missing)`, want: cty.False},
		{name: "sensitive propagates", expr: `"pw=${var.password}"`, want: cty.StringVal("pw=hunter2").Mark(SensitiveMark)},
		{name: "sensitive function", expr: `sensitive(var.region)`, want: cty.StringVal("eu").Mark(SensitiveMark)},
		{name: "nonsensitive", expr: `nonsensitive(var.password)`, want: cty.StringVal("hunter2")},
		{name: "issensitive", expr: `issensitive(var.password)`, want: cty.True},
		{name: "unknown propagates", expr: `upper(var.later)`, want: cty.UnknownVal(cty.String).RefineNotNull()},
		{name: "timestamp unknown while planning", expr: `timestamp()`, want: cty.UnknownVal(cty.String).RefineNotNull()},
		{name: "undeclared variable", expr: "var.nope", wantErr: `There is no variable named "nope"`},
		{name: "undeclared resource", expr: "value.nope.output", wantErr: `There is no resource named value.nope`},
		{name: "bad reference", expr: "var", wantErr: `The "var" object cannot be used on its own`},
		{name: "step outside runbook", expr: "step.pre", wantErr: "Steps are referred to only in the after list"},
		{name: "self without self", expr: "self.id", wantErr: `"self" has no meaning here`},
		{name: "unknown function", expr: `uper(var.region)`, wantErr: `Did you mean "upper"?`},
		{name: "and with a null right", expr: `true && null`, wantErr: "must not be null"},
		{name: "and with a null left", expr: `null && true`, wantErr: "must not be null"},
		{name: "false and null", expr: `false && null`, wantErr: "must not be null"},
		{name: "or with a null right", expr: `false || null`, wantErr: "must not be null"},
		{name: "null or true", expr: `null || true`, wantErr: "must not be null"},
		{name: "and still settles on false", expr: `false && var.later == "x"`, want: cty.False},
		{name: "or still settles on true", expr: `true || var.later == "x"`, want: cty.True},
		{name: "and of bools", expr: `true && var.n == 3`, want: cty.True},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Scope{Data: newTestData(), BaseDir: "testdata", Instance: tt.inst}
			got, diags := s.EvalExpr(parseExpr(t, tt.expr), cty.DynamicPseudoType)
			if tt.wantErr != "" {
				if !diags.HasErrors() {
					t.Fatalf("no error; got %#v", got)
				}
				if !strings.Contains(diagsText(diags), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", diags.Error(), tt.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if !got.RawEquals(tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestEvalExprConvertsToWantedType(t *testing.T) {
	s := &Scope{Data: newTestData()}
	got, diags := s.EvalExpr(parseExpr(t, "var.n"), cty.String)
	if diags.HasErrors() || !got.RawEquals(cty.StringVal("3")) {
		t.Fatalf("got %#v, %s", got, diags.Error())
	}
	_, diags = s.EvalExpr(parseExpr(t, "var.region"), cty.Number)
	if !diags.HasErrors() || diags[0].Summary != "Incorrect value type" {
		t.Fatalf("want an Incorrect value type error, got %v", diags)
	}
	got, diags = s.EvalExpr(parseExpr(t, "var.password"), cty.String)
	if diags.HasErrors() || !got.HasMark(SensitiveMark) {
		t.Fatalf("conversion lost the sensitive mark: %#v", got)
	}
}

func TestScopeStepAndSelf(t *testing.T) {
	s := &Scope{Data: &stepData{testData: *newTestData()}}
	got, diags := s.EvalExpr(parseExpr(t, `"${step.pre.status}/${self.id}"`), cty.String)
	if diags.HasErrors() || !got.RawEquals(cty.StringVal("done/me")) {
		t.Fatalf("got %#v, %s", got, diags.Error())
	}
	_, diags = s.EvalExpr(parseExpr(t, `step.post`), cty.DynamicPseudoType)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `no step named "post"`) {
		t.Fatalf("want an undeclared step error, got %v", diags)
	}
}

// TestEvalLooksUpOnlyReferences checks that evaluation costs one lookup per
// reference, whatever the size of the data behind the scope.
func TestEvalLooksUpOnlyReferences(t *testing.T) {
	d := newTestData()
	for i := 0; i < 1000; i++ {
		d.vars["v"+string(rune('a'+i%26))+strings.Repeat("x", i/26)] = cty.NumberIntVal(int64(i))
	}
	s := &Scope{Data: d}
	_, diags := s.EvalExpr(parseExpr(t, `"${var.region}${var.region}${local.prefix}"`), cty.String)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if n := d.lookups.Load(); n != 2 {
		t.Fatalf("made %d lookups, want 2", n)
	}
}

func parseBody(t *testing.T, s string) hcl.Body {
	t.Helper()
	testSource = s
	f, diags := hclsyntax.ParseConfig([]byte(s), "body.dr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return f.Body
}

func TestEvalBody(t *testing.T) {
	spec := hcldec.ObjectSpec{
		"name": &hcldec.AttrSpec{Name: "name", Type: cty.String, Required: true},
		"disk": &hcldec.BlockListSpec{TypeName: "disk", Nested: hcldec.ObjectSpec{
			"path": &hcldec.AttrSpec{Name: "path", Type: cty.String},
		}},
	}
	tests := []struct {
		name    string
		body    string
		inst    Instance
		want    cty.Value
		wantErr string
	}{
		{
			name: "attributes and blocks",
			body: "name = \"${var.region}-${count.index}\"\ndisk {\n  path = local.prefix\n}\n",
			inst: Instance{Key: addrs.IntK(7)},
			want: cty.ObjectVal(map[string]cty.Value{
				"name": cty.StringVal("eu-7"),
				"disk": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"path": cty.StringVal("dr")})}),
			}),
		},
		{
			name: "dynamic blocks",
			body: "name = \"n\"\ndynamic \"disk\" {\n  for_each = [\"a\", \"b\"]\n  content {\n    path = \"/dev/${disk.value}\"\n  }\n}\n",
			want: cty.ObjectVal(map[string]cty.Value{
				"name": cty.StringVal("n"),
				"disk": cty.ListVal([]cty.Value{
					cty.ObjectVal(map[string]cty.Value{"path": cty.StringVal("/dev/a")}),
					cty.ObjectVal(map[string]cty.Value{"path": cty.StringVal("/dev/b")}),
				}),
			}),
		},
		{name: "unknown argument", body: "nmae = \"m\"\n", wantErr: `Did you mean "name"?`},
		{name: "missing argument", body: "", wantErr: `The argument "name" is required`},
		{name: "undeclared reference", body: "name = var.nope\n", wantErr: `There is no variable named "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Scope{Data: newTestData(), Instance: tt.inst}
			got, diags := s.EvalBody(parseBody(t, tt.body), spec)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diagsText(diags), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if !got.RawEquals(tt.want) {
				t.Fatalf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestEvalCount(t *testing.T) {
	tests := []struct {
		expr    string
		want    int
		wantErr string
	}{
		{expr: "3", want: 3},
		{expr: "var.n * 2", want: 6},
		{expr: `"4"`, want: 4},
		{expr: "0", want: 0},
		{expr: "-1", wantErr: "it must be zero or more"},
		{expr: "1.5", wantErr: `"count" argument value is 1.5; it must be a whole number of zero or more.`},
		{expr: "1e30", wantErr: `"count" argument value is 1e+30; that is more instances than Drover can count.`},
		{expr: "null", wantErr: `"count" argument value is null`},
		{expr: "length(var.later)", wantErr: "The count value depends on values that cannot be determined until apply"},
		{expr: "length(var.password)", wantErr: "Sensitive values"},
		{expr: `"many"`, wantErr: "a number is required"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s := &Scope{Data: newTestData()}
			got, diags := s.EvalCount(parseExpr(t, tt.expr))
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diagsText(diags), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, diags)
				}
				if diags[0].Subject == nil {
					t.Fatal("error has no range")
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestEvalForEach(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		want    map[string]cty.Value
		wantErr string
	}{
		{name: "map", expr: `{a = "/dev/sdc", b = "/dev/sdd"}`, want: map[string]cty.Value{"a": cty.StringVal("/dev/sdc"), "b": cty.StringVal("/dev/sdd")}},
		{name: "set of strings", expr: `toset(["x", "y"])`, want: map[string]cty.Value{"x": cty.StringVal("x"), "y": cty.StringVal("y")}},
		{name: "empty map", expr: `{}`, want: map[string]cty.Value{}},
		{name: "unknown values are fine", expr: `{a = var.later}`, want: map[string]cty.Value{"a": cty.UnknownVal(cty.String)}},
		{name: "sensitive values are fine", expr: `{a = var.password}`, want: map[string]cty.Value{"a": cty.StringVal("hunter2").Mark(SensitiveMark)}},
		{name: "list", expr: `["x"]`, wantErr: "this is a tuple"},
		{name: "set of numbers", expr: `toset([1, 2])`, wantErr: "this is a set of number"},
		{name: "null", expr: `null`, wantErr: "value is null"},
		{name: "unknown", expr: `var.latermap`, wantErr: "cannot be determined until apply"},
		{name: "unknown set element", expr: `toset([var.later])`, wantErr: "set includes values that cannot be determined until apply"},
		{name: "sensitive", expr: `sensitive({a = 1})`, wantErr: "Sensitive values"},
		{name: "sensitive set element", expr: `toset([var.password])`, wantErr: "Sensitive values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Scope{Data: newTestData()}
			got, diags := s.EvalForEach(parseExpr(t, tt.expr))
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diagsText(diags), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d keys, want %d", len(got), len(tt.want))
			}
			for k, v := range tt.want {
				if !got[k].RawEquals(v) {
					t.Fatalf("key %q: got %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
}

// diagsText joins every diagnostic's summary and detail, for matching.
func diagsText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

// TestEvalConcurrently evaluates one body from many goroutines at once, as
// the planner does for the instances of a resource (run with -race).
func TestEvalConcurrently(t *testing.T) {
	body := parseBody(t, "name = \"${var.region}-${count.index}\"\nlabels = [for i in range(2) : format(\"%s%d\", local.prefix, i)]\n")
	spec := hcldec.ObjectSpec{
		"name":   &hcldec.AttrSpec{Name: "name", Type: cty.String},
		"labels": &hcldec.AttrSpec{Name: "labels", Type: cty.List(cty.String)},
	}
	data := newTestData()
	errs := make(chan error, 64)
	for i := range 64 {
		go func() {
			s := &Scope{Data: data, Instance: Instance{Key: addrs.IntK(i)}}
			v, diags := s.EvalBody(body, spec)
			switch {
			case diags.HasErrors():
				errs <- diags
			case v.GetAttr("name").AsString() != fmt.Sprintf("eu-%d", i):
				errs <- fmt.Errorf("instance %d got %#v", i, v)
			default:
				errs <- nil
			}
		}()
	}
	for range 64 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
