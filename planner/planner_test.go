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
