package lang

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// varData answers only variables.
type varData map[string]cty.Value

func (d varData) Var(name string) cty.Value {
	if v, ok := d[name]; ok {
		return v
	}
	return cty.NilVal
}
func (varData) Local(string) cty.Value            { return cty.NilVal }
func (varData) Host(string) cty.Value             { return cty.NilVal }
func (varData) Resource(addrs.Resource) cty.Value { return cty.NilVal }

// diagnosticsFixture produces one diagnostic of each shape the renderer
// handles: expression values, a multi-line subject with tabs and a
// sensitive value, a file read from disk, a related range, and a warning
// without a subject.
func diagnosticsFixture(t *testing.T) (*Config, hcl.Diagnostics) {
	t.Helper()
	dir := filepath.Join("testdata", "diagnostics")
	cfg := loadTestConfig(t, dir)
	inputs, diags := InputValues(cfg, nil, []string{filepath.Join(dir, "extra.drvars.hcl")}, nil)
	vars, d := FinalizeVariables(cfg, map[string]cty.Value{"n": inputs["n"], "secret": cty.StringVal("s3cret")})
	diags = append(diags, d...)
	scope := &Scope{Data: varData(vars), BaseDir: dir}

	_, d = scope.EvalCount(cfg.Resources[res("value", "negative")].Count)
	diags = append(diags, d...)

	attrs, _ := cfg.Resources[res("value", "multi")].Config.JustAttributes()
	_, d = scope.EvalExpr(attrs["input"].Expr, cty.Map(cty.Number))
	diags = append(diags, d...)

	diags = append(diags, duplicate("resource", "value.multi", cfg.Resources[res("value", "negative")].DeclRange, cfg.Resources[res("value", "multi")].DeclRange))
	diags = append(diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Deprecated option",
		Detail:   "The --legacy option will be removed in a later release. Use the settings of the drover block instead, which are kept with the configuration.\n  drover { backend \"local\" {} }\nThis line is long enough that it wraps at the given width as well.",
	})
	return cfg, diags
}

func TestWriteDiagnosticsGolden(t *testing.T) {
	cfg, diags := diagnosticsFixture(t)
	if len(diags) != 5 {
		t.Fatalf("fixture made %d diagnostics, want 5:\n%s", len(diags), diagsText(diags))
	}
	for _, tt := range []struct {
		name string
		opts DiagnosticWriterOptions
	}{
		{name: "text", opts: DiagnosticWriterOptions{Width: 72}},
		{name: "color", opts: DiagnosticWriterOptions{Color: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteDiagnostics(&b, cfg.Files, diags, tt.opts); err != nil {
				t.Fatal(err)
			}
			if tt.name == "text" && strings.Contains(b.String(), "s3cret") {
				t.Fatal("a sensitive value was rendered")
			}
			checkGolden(t, filepath.Join("testdata", "diagnostics", tt.name+".golden"), b.Bytes())
		})
	}
	t.Run("json", func(t *testing.T) {
		b, err := json.MarshalIndent(DiagnosticsJSON(cfg.Files, diags), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, filepath.Join("testdata", "diagnostics", "json.golden"), append(b, '\n'))
	})
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{in: "one two three", width: 0, want: "one two three"},
		{in: "one two three", width: 7, want: "one two\nthree"},
		{in: "  keep   this line as it is", width: 5, want: "  keep   this line as it is"},
		{in: "a\n\nb", width: 1, want: "a\n\nb"},
		{in: "averyveryverylongword x", width: 4, want: "averyveryverylongword\nx"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := wrap(tt.in, tt.width); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
