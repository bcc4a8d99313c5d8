package executor

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/record"
	"github.com/drover-dr/drover/state"
	"github.com/drover-dr/drover/state/local"
)

// BenchmarkRunRunbook runs bench/runbook.sh's graph, 10 waves of 100 steps
// of `true`, each step after every step of the wave before, with a real
// journal and run record, the core provider in-process: the engine's own
// cost per step (journal, record, walk) beside the commands'.
func BenchmarkRunRunbook(b *testing.B) {
	const waves, width = 10, 100
	root := b.TempDir()
	var steps []*plan.Step
	for w := range waves {
		var after []string
		for i := range width {
			if w > 0 {
				after = append(after, fmt.Sprintf("w%d_%d", w-1, i))
			}
		}
		for i := range width {
			steps = append(steps, runStep(root, fmt.Sprintf("w%d_%d", w, i), w, "abort", []string{"true"}, after...))
		}
	}
	reg := registry()
	defer reg.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		dir := b.TempDir()
		backend := local.New(filepath.Join(dir, "drover.state.json"))
		j, err := backend.Journal(ctx, state.New())
		if err != nil {
			b.Fatal(err)
		}
		rec := record.New("bench", record.Run, record.Config{}, record.Budget{})
		p := &plan.Plan{Mode: plan.RunbookMode, Runbook: &plan.Runbook{Name: "bench", Kind: "run", Steps: steps}}
		final, diags := RunRunbook(ctx, p, state.New(), RunbookOptions{Providers: reg, Journal: j, Parallelism: 10, Record: rec,
			Records: record.NewStore(filepath.Join(dir, "runs"))})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		if err := j.Commit(ctx, final); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*waves*width), "µs/step")
}
