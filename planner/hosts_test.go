package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/lang"
	"github.com/zclconf/go-cty/cty"
)

func TestHost(t *testing.T) {
	dir := t.TempDir()
	src := `
variable "site" {
  type    = string
  default = "paris"
}
locals { base = "sim/${var.site}" }
host "fs1" { root = local.base }
host "far" { address = "10.0.0.5" }
host "other" { transport = var.site }
host "near" {
  transport = "local"
  address   = "10.0.0.6"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	v, diags := Host(cfg, map[string]cty.Value{"site": cty.StringVal("lab")}, "fs1")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if v.GetAttr("root").AsString() != "sim/lab" || v.GetAttr("name").AsString() != "fs1" || v.GetAttr("transport").AsString() != "local" {
		t.Errorf("host value %#v", v)
	}
	if _, diags := Host(cfg, nil, "fs9"); !diags.HasErrors() || !strings.Contains(diags[0].Detail, `no host "fs9"; its hosts are: far, fs1, near, other`) {
		t.Errorf("an unknown host: %v", diags)
	}
	v, diags = Host(cfg, nil, "far")
	if diags.HasErrors() || v.GetAttr("transport").AsString() != "ssh" || v.GetAttr("address").AsString() != "10.0.0.5" {
		t.Errorf("an address implies ssh: %#v %v", v, diags)
	}
	// Commands acting on one host never reach this machine in place of
	// another one.
	for name, want := range map[string]string{"near": "Invalid host address", "other": "Invalid host transport"} {
		if _, diags := Host(cfg, map[string]cty.Value{"site": cty.StringVal("ssh")}, name); !diags.HasErrors() || diags[0].Summary != want ||
			diags[0].Subject == nil || diags[0].Subject.Start.Line == 0 {
			t.Errorf("host %s: %v, want %q at its line", name, diags, want)
		}
	}
}
