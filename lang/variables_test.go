package lang

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func loadTestConfig(t *testing.T, dir string) *Config {
	t.Helper()
	cfg, diags := LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(diagsText(diags))
	}
	return cfg
}

func TestInputValues(t *testing.T) {
	cfg := loadTestConfig(t, "testdata/variables")
	tests := []struct {
		name      string
		env       []string
		files     []string
		flags     []string
		want      map[string]cty.Value
		wantErr   string
		wantWarn  string
		wantNoVar string
	}{
		{
			name: "environment",
			env:  []string{"HOME=/root", "DROVER_VAR_region=env", "DROVER_VAR_replicas=4"},
			want: map[string]cty.Value{"region": cty.StringVal("env"), "replicas": cty.NumberIntVal(4)},
		},
		{
			name:      "environment for undeclared variable is ignored",
			env:       []string{"DROVER_VAR_other=x"},
			wantNoVar: "other",
		},
		{
			name:     "file over environment",
			env:      []string{"DROVER_VAR_region=env"},
			files:    []string{"testdata/variables/vars.drvars.hcl"},
			want:     map[string]cty.Value{"region": cty.StringVal("file"), "replicas": cty.NumberIntVal(2)},
			wantWarn: `A value for variable "unknown" is set in testdata/variables/vars.drvars.hcl, but the configuration declares no variable of that name.`,
		},
		{
			name:  "later file wins, JSON files",
			files: []string{"testdata/variables/vars.drvars.hcl", "testdata/variables/vars.json"},
			want: map[string]cty.Value{
				"region":   cty.StringVal("json"),
				"replicas": cty.NumberIntVal(2),
				"tags":     cty.ObjectVal(map[string]cty.Value{"team": cty.StringVal("dr")}),
			},
			wantWarn: "The value is ignored.",
		},
		{
			name:  "flag over file",
			env:   []string{"DROVER_VAR_region=env"},
			files: []string{"testdata/variables/vars.json"},
			flags: []string{"region=flag"},
			want:  map[string]cty.Value{"region": cty.StringVal("flag")},
		},
		{
			name:  "string variables take the text as it is",
			flags: []string{`region="quoted" = x`},
			want:  map[string]cty.Value{"region": cty.StringVal(`"quoted" = x`)},
		},
		{
			name:  "other variables take HCL",
			flags: []string{"replicas=5e0", `tags={ team = "dr" }`, `anything=[1, "a"]`},
			want: map[string]cty.Value{
				"replicas": cty.NumberIntVal(5),
				"tags":     cty.ObjectVal(map[string]cty.Value{"team": cty.StringVal("dr")}),
				"anything": cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.StringVal("a")}),
			},
		},
		{name: "number variables take the text, converted", flags: []string{"replicas=abc"}, wantErr: `The value of variable "replicas" from --var replicas=... cannot be read: a number is required.`},
		{name: "bare word for untyped variable", flags: []string{"anything=word"}, wantErr: `quote a string, like anything="text"`},
		{name: "invalid HCL", flags: []string{"tags={"}, wantErr: `The value of variable "tags" from --var tags=... cannot be read`},
		{name: "undeclared flag", flags: []string{"regoin=x"}, wantErr: `A value for variable "regoin" was given with --var, but the configuration declares no variable of that name. Did you mean "region"?`},
		{name: "flag without value", flags: []string{"region"}, wantErr: `The option --var "region" is not NAME=VALUE`},
		{name: "missing file", files: []string{"testdata/variables/nope.hcl"}, wantErr: "Cannot read variables file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := InputValues(cfg, tt.env, tt.files, tt.flags)
			text := diagsText(diags)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(text, tt.wantErr) {
					t.Fatalf("want error containing %q, got %q", tt.wantErr, text)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(text)
			}
			if tt.wantWarn != "" && !strings.Contains(text, tt.wantWarn) {
				t.Fatalf("want warning containing %q, got %q", tt.wantWarn, text)
			}
			if tt.wantWarn == "" && len(diags) > 0 {
				t.Fatalf("unexpected diagnostics: %s", text)
			}
			if _, ok := got[tt.wantNoVar]; tt.wantNoVar != "" && ok {
				t.Fatalf("%s should not be set", tt.wantNoVar)
			}
			for k, v := range tt.want {
				if !got[k].RawEquals(v) {
					t.Errorf("%s: got %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
}

func TestFinalizeVariables(t *testing.T) {
	cfg := loadTestConfig(t, "testdata/variables")
	base := map[string]cty.Value{"region": cty.StringVal("eu")}
	with := func(extra map[string]cty.Value) map[string]cty.Value {
		out := map[string]cty.Value{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name    string
		inputs  map[string]cty.Value
		want    map[string]cty.Value
		wantErr string
		errLine int
	}{
		{
			name:   "defaults",
			inputs: base,
			want: map[string]cty.Value{
				"region":   cty.StringVal("eu"),
				"replicas": cty.NumberIntVal(1),
				"tags":     cty.MapValEmpty(cty.String),
				"password": cty.StringVal("changeme").Mark(SensitiveMark),
				"zone":     cty.StringVal("a"),
				"settings": cty.ObjectVal(map[string]cty.Value{"size": cty.NumberIntVal(1), "name": cty.StringVal("disk")}),
				"anything": cty.NullVal(cty.DynamicPseudoType),
				"strict":   cty.StringVal("fallback"),
			},
		},
		{
			name:   "conversion and optional attributes",
			inputs: with(map[string]cty.Value{"replicas": cty.StringVal("3"), "settings": cty.ObjectVal(map[string]cty.Value{"size": cty.NumberIntVal(9)})}),
			want: map[string]cty.Value{
				"replicas": cty.NumberIntVal(3),
				"settings": cty.ObjectVal(map[string]cty.Value{"size": cty.NumberIntVal(9), "name": cty.StringVal("disk")}),
			},
		},
		{
			name:   "null for a non-nullable variable takes the default",
			inputs: with(map[string]cty.Value{"strict": cty.NullVal(cty.String)}),
			want:   map[string]cty.Value{"strict": cty.StringVal("fallback")},
		},
		{
			name:    "required variable missing",
			inputs:  map[string]cty.Value{},
			wantErr: `Variable "region" has no default, so it needs a value. Pass --var region=VALUE or a --var-file, or set the environment variable DROVER_VAR_region.`,
			errLine: 1,
		},
		{
			name:    "wrong type",
			inputs:  with(map[string]cty.Value{"replicas": cty.StringVal("many")}),
			wantErr: `The value given for variable "replicas" does not match its type number: a number is required.`,
			errLine: 5,
		},
		{
			name:    "failed validation",
			inputs:  with(map[string]cty.Value{"zone": cty.StringVal("c")}),
			wantErr: "The zone must be a or b, not c.\n\nThis was checked by the validation rule at testdata/variables/main.dr.hcl:24.",
			errLine: 25,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := FinalizeVariables(cfg, tt.inputs)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diagsText(diags), tt.wantErr) {
					t.Fatalf("want error containing %q, got %q", tt.wantErr, diagsText(diags))
				}
				if diags[0].Subject == nil || diags[0].Subject.Start.Line != tt.errLine {
					t.Fatalf("error subject %v, want line %d", diags[0].Subject, tt.errLine)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diagsText(diags))
			}
			for k, v := range tt.want {
				if !got[k].RawEquals(v) {
					t.Errorf("%s: got %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
}
