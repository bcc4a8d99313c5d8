package planner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

func TestConfigureProviders(t *testing.T) {
	const resources = `
resource "value" "a" {
  input = "x"
}
host "fs1" {
  root = "sim/${var.site}"
}
variable "site" {
  type    = string
  default = "paris"
}
`
	tests := []struct {
		name    string
		src     string
		want    string // the greeting the provider was configured with
		wantErr string
	}{
		{name: "variable", src: `provider "cfgd" { greeting = "hi ${var.site}" }`, want: "hi paris"},
		{name: "locals in a chain", src: `
locals {
  a = upper(var.site)
  b = "${local.a}!"
}
provider "cfgd" { greeting = local.b }`, want: "PARIS!"},
		{name: "host", src: `provider "cfgd" { greeting = host.fs1.root }`, want: "sim/paris"},
		{name: "no block", src: ``, want: "<null>"},
		{name: "resource", src: `provider "cfgd" { greeting = value.a.output }`,
			wantErr: `The configuration of provider "cfgd" refers to value.a. Providers are configured before`},
		{name: "resource through a local", src: `
locals { via = value.a.output }
provider "cfgd" { greeting = local.via }`,
			wantErr: "refers to value.a through local.via"},
		{name: "unknown until apply", src: `provider "cfgd" { greeting = timestamp() }`,
			wantErr: "not known until apply"},
		{name: "wrong type", src: `provider "cfgd" { greeting = ["a"] }`,
			wantErr: "Incorrect attribute value type"},
		{name: "unknown provider", src: `provider "cfgdd" {}`,
			wantErr: `no provider named "cfgdd" is available. Providers available: cfgd, core`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(resources+tt.src), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, diags := lang.LoadDir(dir)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			vars, diags := lang.FinalizeVariables(cfg, nil)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			got := ""
			reg := configuredRegistry(&got)
			defer reg.Close()
			diags = ConfigureProviders(context.Background(), cfg, vars, reg)
			if tt.wantErr != "" {
				var all strings.Builder
				for _, d := range diags {
					all.WriteString(d.Summary + ": " + d.Detail + "\n")
				}
				if !diags.HasErrors() || !strings.Contains(all.String(), tt.wantErr) {
					t.Fatalf("diagnostics %q, want %q", all.String(), tt.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if _, _, err := reg.Get(context.Background(), "cfgd"); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("configured with %q, want %q", got, tt.want)
			}
			if d := Validate(context.Background(), cfg, configuredRegistry(new(string))); d.HasErrors() {
				t.Errorf("validate: %s", d.Error())
			}
		})
	}
}

// configuredRegistry serves core and "cfgd", a provider whose configuration
// is one greeting, which its Configure writes to got.
func configuredRegistry(got *string) *providers.Registry {
	p := &sdk.Provider{
		Name: "cfgd",
		Config: &schema.Block{Attributes: map[string]*schema.Attribute{
			"greeting": {Type: cty.String, Optional: true},
		}},
		Configure: func(ctx context.Context, config cty.Value) providers.Diagnostics {
			*got = "<null>"
			if !config.IsNull() {
				*got = config.GetAttr("greeting").AsString()
			}
			return nil
		},
	}
	return providers.NewRegistry(
		providers.Entry{Name: "core", Factory: func() (providers.Provider, error) { return sdk.New(builtin.Provider("core")), nil },
			Types: []string{"file", "value"}},
		providers.Entry{Name: "cfgd", Factory: func() (providers.Provider, error) { return sdk.New(p), nil }},
	)
}
