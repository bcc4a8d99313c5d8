package sdk

import (
	"context"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// A ForceNew host is replaced when it names another machine or folder,
// not when only the way to reach it changes (a key file, a pin,
// known_hosts); with no Update either.
func TestPlanHostConnectionSettings(t *testing.T) {
	fs1 := host.Config{Name: "fs1", Address: "fs1.example.net", IdentityFile: "/keys/old", Root: "/srv"}
	tests := []struct {
		name        string
		change      func(c *host.Config)
		wantReplace bool
	}{
		{"identity_file", func(c *host.Config) { c.IdentityFile = "/keys/new" }, false},
		{"known_hosts", func(c *host.Config) { c.KnownHosts = "/etc/drover/known_hosts" }, false},
		{"host_key", func(c *host.Config) { c.HostKey = "ssh-ed25519 AAAA" }, false},
		{"root", func(c *host.Config) { c.Root = "/srv/other" }, true},
		{"address", func(c *host.Config) { c.Address = "fs9.example.net" }, true},
		{"user", func(c *host.Config) { c.User = "dr" }, true},
	}
	res := &schema.Resource{Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, ForceNew: true},
		"path": {Type: cty.String, Required: true},
	}}}
	obj := func(c host.Config) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"host": c.Value(), "path": cty.StringVal("/motd")})
	}
	for _, update := range []bool{true, false} {
		r := &Resource{Schema: res, Read: func(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) { return state, nil }}
		if update {
			r.Update = func(ctx context.Context, req ApplyRequest) (cty.Value, providers.Diagnostics) {
				return req.Planned, nil
			}
		}
		p := New(&Provider{Name: "test", Resources: map[string]*Resource{"test_file": r}})
		for _, tt := range tests {
			t.Run(map[bool]string{true: "update/", false: "no update/"}[update]+tt.name, func(t *testing.T) {
				c := fs1
				tt.change(&c)
				resp := p.Plan(context.Background(), providers.PlanRequest{TypeName: "test_file", Prior: obj(fs1), Config: obj(c)})
				var want []cty.Path
				if tt.wantReplace {
					want = []cty.Path{cty.GetAttrPath("host")}
				}
				if diff := cmp.Diff(want, resp.RequiresReplace, cmp.Comparer(func(a, b cty.Path) bool { return a.Equals(b) })); diff != "" {
					t.Errorf("requires replace (-want +got):\n%s%v", diff, resp.Diagnostics)
				}
				if tt.wantReplace {
					return
				}
				ar := p.Apply(context.Background(), providers.ApplyRequest{TypeName: "test_file", Prior: obj(fs1), Planned: resp.Planned})
				if ar.Diagnostics.HasErrors() || !ar.New.RawEquals(resp.Planned) {
					t.Errorf("apply: %v, new %#v", ar.Diagnostics, ar.New)
				}
			})
		}
	}
}
