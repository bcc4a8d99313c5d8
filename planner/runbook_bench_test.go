package planner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/providers"
)

// benchRunbook writes bench/runbook.sh's runbook of waves x width run
// steps, each wave after the whole wave before: flat, one block per step
// naming every step of the wave before; or count, one repeated step per
// wave.
func benchRunbook(form string, waves, width int) string {
	var b strings.Builder
	b.WriteString("host \"h\" { root = \"sim\" }\n\nrunbook \"bench\" {\n")
	for w := range waves {
		if form == "count" {
			fmt.Fprintf(&b, "  step \"w%d\" {\n    count = %d\n    host  = host.h\n    run   = [\"true\"]\n", w, width)
			if w > 0 {
				fmt.Fprintf(&b, "    after = [step.w%d]\n", w-1)
			}
			b.WriteString("  }\n")
			continue
		}
		for i := range width {
			fmt.Fprintf(&b, "  step \"w%d_%d\" {\n    host = host.h\n    run  = [\"true\"]\n", w, i)
			if w > 0 {
				refs := make([]string, width)
				for j := range refs {
					refs[j] = fmt.Sprintf("step.w%d_%d", w-1, j)
				}
				fmt.Fprintf(&b, "    after = [%s]\n", strings.Join(refs, ", "))
			}
			b.WriteString("  }\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// BenchmarkPlanRunbook loads and plans bench/runbook.sh's 1,000-step
// runbook in both forms, as `drover runbook run` does before running.
func BenchmarkPlanRunbook(b *testing.B) {
	for _, form := range []string{"flat", "count"} {
		b.Run(form, func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(benchRunbook(form, 10, 100)), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				cfg, diags := lang.LoadDir(dir)
				if diags.HasErrors() {
					b.Fatal(diags.Error())
				}
				vars, diags := lang.FinalizeVariables(cfg, nil)
				if diags.HasErrors() {
					b.Fatal(diags.Error())
				}
				reg := providers.NewRegistry()
				p, diags := Plan(context.Background(), cfg, nil, Options{Providers: reg, Variables: vars, PlanTime: time.Now(),
					Runbook: &RunbookRequest{Name: "bench", Kind: "run"}})
				reg.Close()
				if diags.HasErrors() {
					b.Fatal(diags.Error())
				}
				if len(p.Runbook.Steps) != 1000 {
					b.Fatalf("%d steps", len(p.Runbook.Steps))
				}
			}
		})
	}
}

// BenchmarkPlanChain plans a step of 1,000 instances, each after the one
// before through an after expression.
func BenchmarkPlanChain(b *testing.B) {
	dir := b.TempDir()
	src := `
runbook "chain" {
  step "x" {
    count = 1000
    after = count.index > 0 ? [step.x[count.index - 1]] : []
    wait  = "1s"
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, diags := lang.LoadDir(dir)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	vars, diags := lang.FinalizeVariables(cfg, nil)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	b.ReportAllocs()
	for b.Loop() {
		reg := providers.NewRegistry()
		p, diags := Plan(context.Background(), cfg, nil, Options{Providers: reg, Variables: vars, PlanTime: time.Now(),
			Runbook: &RunbookRequest{Name: "chain", Kind: "run"}})
		reg.Close()
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		if last := p.Runbook.Steps[999]; last.Wave != 999 {
			b.Fatalf("last step %s in wave %d", last.Name, last.Wave)
		}
	}
}
