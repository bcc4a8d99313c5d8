package report

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/drover-dr/drover/record"
)

// BenchmarkHTML renders the page of a finished run of 1,000 quick steps in
// 10 waves of 100, each after the 100 steps of the wave before: the run of
// bench/runbook.sh, whose report is written at the end of the run.
func BenchmarkHTML(b *testing.B) {
	s := record.NewStore(b.TempDir())
	r := record.New("bench", record.Failover, record.Config{Dir: "/srv/dr"}, record.Budget{})
	at := r.StartedAt
	zero := 0
	for w := range 10 {
		var after []string
		for i := range 100 {
			if w > 0 {
				after = append(after, fmt.Sprintf("w%d[%d]", w-1, i))
			}
		}
		for i := range 100 {
			r.Steps = append(r.Steps, &record.Step{Name: fmt.Sprintf("w%d[%d]", w, i), Action: "run", Summary: "true", Host: "h",
				Wave: w, After: after, Status: record.Succeeded, StartedAt: at, FinishedAt: at.Add(3 * time.Millisecond),
				Attempts: 1, ExitCode: &zero})
			at = at.Add(time.Millisecond)
		}
	}
	r.Finish(at, record.Succeeded)
	b.ReportAllocs()
	for b.Loop() {
		var page bytes.Buffer // a run writes one page
		if err := HTML(&page, s, r); err != nil {
			b.Fatal(err)
		}
	}
}
