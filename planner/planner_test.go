package planner

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/drover-dr/drover/state"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestPlanGolden plans each testdata/plan/<case>: main.dr.hcl against
// prior.json (optional), with `mode` and `targets` files when present, and
// compares the plan document with plan.json.
func TestPlanGolden(t *testing.T) {
	cases, err := os.ReadDir(filepath.Join("testdata", "plan"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		dir := filepath.Join("testdata", "plan", c.Name())
		t.Run(c.Name(), func(t *testing.T) {
			reg := providers.NewRegistry(providers.Entry{
				Name:    "core",
				Factory: func() (providers.Provider, error) { return sdk.New(builtin.Provider("core")), nil },
				Types:   []string{"file", "value"},
			})
			defer reg.Close()
			cfg, diags := lang.LoadDir(dir)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			vars, diags := lang.FinalizeVariables(cfg, nil)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			prior := state.New()
			prior.Lineage = "00000000-0000-0000-0000-000000000000"
			if b, err := os.ReadFile(filepath.Join(dir, "prior.json")); err == nil {
				if prior, err = state.Unmarshal(b); err != nil {
					t.Fatal(err)
				}
			}
			opts := Options{Providers: reg, Variables: vars, Mode: plan.Normal, PlanTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			if b, err := os.ReadFile(filepath.Join(dir, "mode")); err == nil {
				opts.Mode = plan.Mode(strings.TrimSpace(string(b)))
			}
			if b, err := os.ReadFile(filepath.Join(dir, "targets")); err == nil {
				for _, line := range strings.Fields(string(b)) {
					a, err := addrs.ParseInstance(line)
					if err != nil {
						t.Fatal(err)
					}
					opts.Targets = append(opts.Targets, a)
				}
			}
			p, diags := Plan(context.Background(), cfg, prior, opts)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			got, err := plan.Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join(dir, "plan.json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.TrimSpace(string(want)), string(got)); diff != "" {
				t.Fatalf("plan document (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDeleteDescribed: every planned delete (destroy, a resource gone from
// the configuration, an instance the count no longer declares) carries
// what the provider says the delete does on the host.
func TestDeleteDescribed(t *testing.T) {
	for _, tc := range []struct {
		name, dir string
		mode      plan.Mode
		want      map[string]string
	}{
		{"destroy", "orphan-delete", plan.Destroy, map[string]string{"value.gone": "forgets g", "value.kept": "forgets k"}},
		{"no configuration", "orphan-delete", plan.Normal, map[string]string{"value.gone": "forgets g"}},
		{"count shrinks", "count-shrink", plan.Normal, map[string]string{"value.n[1]": "forgets n1", "value.n[2]": "forgets n2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "plan", tc.dir)
			reg := providers.NewRegistry(providers.Entry{
				Name: "core",
				Factory: func() (providers.Provider, error) {
					p := builtin.Provider("core")
					p.Resources["value"].DescribeDelete = func(ctx context.Context, prior cty.Value) (string, providers.Diagnostics) {
						return "forgets " + prior.GetAttr("input").AsString(), nil
					}
					return sdk.New(p), nil
				},
				Types: []string{"file", "value"},
			})
			defer reg.Close()
			cfg, diags := lang.LoadDir(dir)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			vars, _ := lang.FinalizeVariables(cfg, nil)
			b, err := os.ReadFile(filepath.Join(dir, "prior.json"))
			if err != nil {
				t.Fatal(err)
			}
			prior, err := state.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			p, diags := Plan(context.Background(), cfg, prior, Options{Providers: reg, Variables: vars, Mode: tc.mode})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			got := map[string]string{}
			for _, c := range p.Changes {
				if c.Action == plan.Delete {
					got[c.Addr.String()] = c.Description
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("descriptions of the deletes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRefreshWarningsReachThePlan: a warning a provider returns from Read
// comes back from Plan, as the plan's own warnings do, naming the
// resource; it was dropped.
func TestRefreshWarningsReachThePlan(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"refresh", Options{}, []string{"Read is approximate"}},
		{"refresh only", Options{Mode: plan.RefreshOnly}, []string{"Read is approximate"}},
		{"no refresh", Options{SkipRefresh: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "plan", "orphan-delete")
			reg := providers.NewRegistry(providers.Entry{
				Name: "core",
				Factory: func() (providers.Provider, error) {
					p := builtin.Provider("core")
					p.Resources["value"].Read = func(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
						if state.GetAttr("input").AsString() != "k" {
							return state, nil
						}
						return state, providers.Diagnostics{{Severity: providers.Warning, Summary: "Read is approximate", Detail: "The host answered slowly."}}
					}
					return sdk.New(p), nil
				},
				Types: []string{"file", "value"},
			})
			defer reg.Close()
			cfg, diags := lang.LoadDir(dir)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			vars, _ := lang.FinalizeVariables(cfg, nil)
			b, err := os.ReadFile(filepath.Join(dir, "prior.json"))
			if err != nil {
				t.Fatal(err)
			}
			prior, err := state.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			opts := tc.opts
			opts.Providers, opts.Variables = reg, vars
			_, diags = Plan(context.Background(), cfg, prior, opts)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			var got []string
			for _, d := range diags {
				if d.Severity == hcl.DiagWarning {
					got = append(got, d.Summary)
					if !strings.Contains(d.Detail, "value.kept") && !strings.Contains(d.Summary, "value.kept") {
						t.Errorf("the warning does not name value.kept: %q %q", d.Summary, d.Detail)
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
