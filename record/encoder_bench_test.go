package record

import (
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkEncoder saves a record of bench/runbook.sh's graph (10 waves
// of 100 steps, each after every step of the wave before, the list shared
// by the wave's steps as the executor shares it) as a run does: each step
// pending, running, then finished, a version saved every 25 changes.
func BenchmarkEncoder(b *testing.B) {
	const waves, width, every = 10, 100, 25
	t0 := time.Date(2026, 12, 7, 19, 6, 44, 547000000, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		r := New("bench", Run, Config{}, Budget{})
		var after []string
		for w := range waves {
			var next []string
			for i := range width {
				name := fmt.Sprintf("w%d[%d]", w, i)
				next = append(next, name)
				r.Steps = append(r.Steps, &Step{Name: name, Action: "run", Summary: "run true on h", Host: "h", Wave: w, After: after, Status: Pending})
			}
			after = next
		}
		e := &Encoder{}
		changes := 0
		change := func(i int, f func(*Step)) {
			cp := *r.Steps[i]
			f(&cp)
			r.Steps[i] = &cp
			if changes++; changes%every == 0 {
				if err := e.Encode(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		}
		code := 0
		for i := range r.Steps {
			change(i, func(s *Step) { s.Status, s.StartedAt, s.Attempts = Running, t0, 1 })
			change(i, func(s *Step) {
				s.Status, s.FinishedAt, s.ExitCode, s.Output = Succeeded, t0.Add(time.Millisecond), &code, s.Name+".log"
			})
		}
		if err := e.Encode(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
