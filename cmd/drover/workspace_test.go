package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/lang"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestLiteralSize(t *testing.T) {
	tests := []struct {
		count, forEach string
		want           int
	}{
		{"", "", 1},
		{"1000", "", 1000},
		{"0", "", 0},
		{"var.n", "", 1},
		{"length(var.hosts)", "", 1},
		{"-1", "", 1},
		{"2.5", "", 1},
		{"", `["a", "b", "c"]`, 3},
		{"", `{ a = 1, b = 2 }`, 2},
		{"", `toset(var.names)`, 1},
	}
	parse := func(src string) hcl.Expression {
		if src == "" {
			return nil
		}
		e, diags := hclsyntax.ParseExpression([]byte(src), "test", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags)
		}
		return e
	}
	for _, tt := range tests {
		if got := literalSize(parse(tt.count), parse(tt.forEach)); got != tt.want {
			t.Errorf("literalSize(count = %q, for_each = %q) = %d, want %d", tt.count, tt.forEach, got, tt.want)
		}
	}
}

// TestConfigInstances counts the instances that decide whether a run's
// heap starts on huge pages: resources and runbook steps alike.
func TestConfigInstances(t *testing.T) {
	cases := []struct {
		name, config string
		want         int
	}{
		{name: "resources", config: `
resource "core_file" "a" {
  count   = 100
  path    = "a${count.index}"
  content = ""
}
resource "core_file" "b" {
  path    = "b"
  content = ""
}
`, want: 101},
		{name: "runbook steps", config: `
host "h" { root = "sim" }

runbook "bench" {
  step "w0" {
    count = 100
    host  = host.h
    run   = ["true"]
  }
  step "w1" {
    count = 100
    host  = host.h
    run   = ["true"]
    after = [step.w0]
  }
  step "last" {
    host  = host.h
    run   = ["true"]
    after = [step.w1]
  }
}
`, want: 201},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main"+lang.NativeSuffix), []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, diags := lang.LoadDir(dir)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := configInstances(cfg); got != c.want {
				t.Errorf("configInstances = %d, want %d", got, c.want)
			}
		})
	}
}
