package lang

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

func addConfigSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*/*/*.dr.*")
	more, _ := filepath.Glob("testdata/*/*.dr.*")
	for _, p := range append(paths, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(p, ".json"))
	}
}

// FuzzLoadFile decodes one file of arbitrary bytes, analyses its
// references and renders its diagnostics: none of it may panic.
func FuzzLoadFile(f *testing.F) {
	addConfigSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte, isJSON bool) {
		name := "fuzz" + NativeSuffix
		if isJSON {
			name = "fuzz" + JSONSuffix
		}
		cfg := newConfig(".")
		diags := cfg.load([]source{{name: name, src: src}})
		for _, l := range cfg.Locals {
			_, d := ExprRefs(l.Expr)
			diags = append(diags, d...)
		}
		for _, r := range cfg.Resources {
			_, d := BodyRefs(r.Config, hcldec.ObjectSpec{})
			diags = append(diags, d...)
			_, d = TraversalRefs(r.DependsOn)
			diags = append(diags, d...)
		}
		for _, h := range cfg.Hosts {
			_, d := BodyRefs(h.Config, hcldec.ObjectSpec{"address": &hcldec.AttrSpec{Name: "address", Type: cty.String}})
			diags = append(diags, d...)
		}
		_ = cfg.Hash()
		if err := WriteDiagnostics(io.Discard, cfg.Files, diags, DiagnosticWriterOptions{Color: true, Width: 40}); err != nil {
			t.Fatal(err)
		}
		_ = DiagnosticsJSON(cfg.Files, diags)
	})
}

// FuzzFormatFile formats arbitrary bytes; the result must parse whenever
// the input did.
func FuzzFormatFile(f *testing.F) {
	addConfigSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte, _ bool) {
		out, _, diags := FormatFile("fuzz.dr.hcl", src)
		if diags.HasErrors() {
			return
		}
		if _, _, d := FormatFile("fuzz.dr.hcl", out); d.HasErrors() {
			t.Fatalf("formatted output does not parse: %s\n%q", d.Error(), out)
		}
	})
}

// FuzzVarFlag reads arbitrary --var values for variables of several types.
func FuzzVarFlag(f *testing.F) {
	for _, s := range []string{"region=eu", `tags={a="b"}`, "replicas=3", "anything=[1,2]", "=", "x", "settings={size=1}"} {
		f.Add(s)
	}
	cfg, diags := LoadDir("testdata/variables")
	if diags.HasErrors() {
		f.Fatal(diags.Error())
	}
	f.Fuzz(func(t *testing.T, flag string) {
		inputs, _ := InputValues(cfg, []string{"DROVER_VAR_" + flag}, nil, []string{flag})
		_, _ = FinalizeVariables(cfg, inputs)
	})
}

// FuzzVarFile reads arbitrary --var-file contents, as HCL and as JSON,
// for variables of several types, and renders what it reports.
func FuzzVarFile(f *testing.F) {
	for _, p := range []string{"testdata/variables/vars.drvars.hcl", "testdata/variables/vars.json", "testdata/diagnostics/extra.drvars.hcl"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(p, ".json"))
	}
	cfg, diags := LoadDir("testdata/variables")
	if diags.HasErrors() {
		f.Fatal(diags.Error())
	}
	f.Fuzz(func(t *testing.T, src []byte, isJSON bool) {
		path := filepath.Join(t.TempDir(), "fuzz.drvars.hcl")
		if isJSON {
			path = filepath.Join(filepath.Dir(path), "fuzz.drvars.json")
		}
		if err := os.WriteFile(path, src, 0o600); err != nil {
			t.Fatal(err)
		}
		inputs, diags := InputValues(cfg, nil, []string{path}, nil)
		_, d := FinalizeVariables(cfg, inputs)
		diags = append(diags, d...)
		if err := WriteDiagnostics(io.Discard, cfg.Files, diags, DiagnosticWriterOptions{Width: 60}); err != nil {
			t.Fatal(err)
		}
	})
}
