package planner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/drover-dr/drover/state"
	"github.com/zclconf/go-cty/cty"
)

// TestCheckSaved: a saved plan whose hosts, providers or value types are
// not what the configuration gives is refused, whoever sealed it.
func TestCheckSaved(t *testing.T) {
	dir := t.TempDir()
	src := `
host "fs1" { root = "sim/fs1" }
host "fs2" { root = "sim/fs2" }
resource "file" "motd" {
  host    = host.fs1
  path    = "/etc/motd"
  content = "hello\n"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	reg := providers.NewRegistry(providers.Entry{
		Name:    "core",
		Factory: func() (providers.Provider, error) { return sdk.New(builtin.Provider("core")), nil },
		Types:   []string{"file", "value"},
	})
	defer reg.Close()
	opts := Options{Providers: reg, Mode: plan.Normal, Variables: map[string]cty.Value{}}
	ctx := context.Background()
	setHost := func(after cty.Value, attr string, v cty.Value) cty.Value {
		m := after.AsValueMap()
		h := m["host"].AsValueMap()
		h[attr] = v
		m["host"] = cty.ObjectVal(h)
		return cty.ObjectVal(m)
	}
	tests := []struct {
		name    string
		edit    func(c *plan.Change)
		wantErr string
	}{
		{name: "untouched", edit: func(c *plan.Change) {}},
		{name: "host root", edit: func(c *plan.Change) { c.After = setHost(c.After, "root", cty.StringVal("/")) },
			wantErr: `holds host "fs1" as {transport = "local", root = "/"}; the configuration says {transport = "local", root = "sim/fs1"}`},
		{name: "host transport", edit: func(c *plan.Change) { c.After = setHost(c.After, "transport", cty.StringVal("ssh")) },
			wantErr: `holds host "fs1" as {transport = "ssh", root = "sim/fs1"}`},
		{name: "host renamed", edit: func(c *plan.Change) { c.After = setHost(c.After, "name", cty.StringVal("fs2")) },
			wantErr: `holds host "fs2" as {transport = "local", root = "sim/fs1"}; the configuration says {transport = "local", root = "sim/fs2"}`},
		{name: "unknown host", edit: func(c *plan.Change) { c.After = setHost(c.After, "name", cty.StringVal("fs9")) },
			wantErr: `names host "fs9": The configuration has no host "fs9"`},
		{name: "provider", edit: func(c *plan.Change) { c.Provider = "registry" },
			wantErr: `sends file.motd to provider "registry"; the configuration's provider for it is "core"`},
		{name: "type", edit: func(c *plan.Change) {
			c.After = cty.ObjectVal(map[string]cty.Value{"path": cty.StringVal("/etc/motd"), "mode": cty.StringVal("4777")})
		}, wantErr: `does not have the type the core schema of "file" gives it`},
		{name: "required attribute removed", edit: func(c *plan.Change) {
			m := c.After.AsValueMap()
			m["path"] = cty.NullVal(cty.String)
			c.After = cty.ObjectVal(m)
		}, wantErr: `has no path, which the core schema of "file" requires`},
		{name: "undeclared resource", edit: func(c *plan.Change) { c.Addr.Resource.Name = "other" },
			wantErr: `changes file.other, which the configuration does not declare`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, diags := Plan(ctx, cfg, state.New(), opts)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			tt.edit(p.Changes[0])
			diags = CheckSaved(ctx, cfg, opts, p)
			if tt.wantErr == "" {
				if diags.HasErrors() {
					t.Fatalf("an untouched plan was refused: %v", diags)
				}
				return
			}
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.wantErr) {
				t.Fatalf("CheckSaved = %v, want an error with %q", diags, tt.wantErr)
			}
		})
	}
}
