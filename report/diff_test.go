package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/drover-dr/drover/record"
	"github.com/google/go-cmp/cmp"
)

func TestDiffGolden(t *testing.T) {
	s := record.NewStore("testdata/runs")
	for _, pair := range [][2]string{
		{runs[0], runs[1]},
		{runs[1], runs[0]},
		{runs[0], runs[0]},
	} {
		t.Run(pair[0]+"-"+pair[1], func(t *testing.T) {
			a, err := s.Load(pair[0])
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.Load(pair[1])
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := WriteDiff(&out, a, b, Diff(a, b)); err != nil {
				t.Fatal(err)
			}
			golden(t, "diff."+pair[0][17:]+"-"+pair[1][17:]+".txt", out.String())
		})
	}
}

func TestDiff(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	ran := func(name string, d time.Duration, st record.Status, checks ...*record.Check) *record.Step {
		return &record.Step{Name: name, Status: st, StartedAt: t0, FinishedAt: t0.Add(d), Checks: checks}
	}
	check := func(target string, passed bool) *record.Check {
		return &record.Check{Kind: "tcp", Target: target, Passed: passed}
	}
	run := func(steps ...*record.Step) *record.Record {
		return &record.Record{StartedAt: t0, Steps: steps}
	}
	for _, tc := range []struct {
		name string
		a, b *record.Record
		want []Change
	}{
		{
			name: "slower by more than 20%",
			a:    run(ran("pre", 10*time.Second, record.Succeeded)),
			b:    run(ran("pre", 12500*time.Millisecond, record.Succeeded)),
			want: []Change{{Kind: StepSlower, Regression: true, Step: "pre", Before: "10s", After: "12.5s", Percent: 25}},
		},
		{
			name: "slower by 20% exactly is not",
			a:    run(ran("pre", 10*time.Second, record.Succeeded)),
			b:    run(ran("pre", 12*time.Second, record.Succeeded)),
		},
		{
			name: "a fast step's jitter is noise",
			a:    run(ran("pre", 5*time.Millisecond, record.Succeeded)),
			b:    run(ran("pre", 50*time.Millisecond, record.Succeeded)),
		},
		{
			name: "faster is a change, not a regression",
			a:    run(ran("pre", 10*time.Second, record.Succeeded)),
			b:    run(ran("pre", 5*time.Second, record.Succeeded)),
			want: []Change{{Kind: StepFaster, Step: "pre", Before: "10s", After: "5s", Percent: -50}},
		},
		{
			name: "a failed step's time does not compare",
			a:    run(ran("pre", time.Second, record.Succeeded)),
			b:    run(&record.Step{Name: "pre", Status: record.Failed, StartedAt: t0, FinishedAt: t0.Add(time.Minute), Error: "exit status 1\nmore"}),
			want: []Change{{Kind: StepFailed, Regression: true, Step: "pre", Before: "succeeded", After: "exit status 1"}},
		},
		{
			name: "fixed",
			a:    run(&record.Step{Name: "pre", Status: record.Failed, Error: "exit status 1"}),
			b:    run(ran("pre", time.Second, record.Succeeded)),
			want: []Change{{Kind: StepFixed, Step: "pre", Before: "exit status 1", After: "succeeded"}},
		},
		{
			name: "the second of two checks of one target stopped passing",
			a:    run(ran("smoke", time.Second, record.Succeeded, check("fs2:445", true), check("fs2:445", true))),
			b:    run(ran("smoke", time.Second, record.Succeeded, check("fs2:445", true), check("fs2:445", false))),
			want: []Change{{Kind: CheckFailing, Regression: true, Step: "smoke", Check: "tcp fs2:445"}},
		},
		{
			name: "a check that passes now",
			a:    run(ran("smoke", time.Second, record.Succeeded, check("fs2:445", false))),
			b:    run(ran("smoke", time.Second, record.Succeeded, check("fs2:445", true))),
			want: []Change{{Kind: CheckPassing, Step: "smoke", Check: "tcp fs2:445"}},
		},
		{
			name: "steps added and removed",
			a:    run(ran("old", time.Second, record.Succeeded)),
			b:    run(&record.Step{Name: "new", Status: record.Skipped}),
			want: []Change{{Kind: StepAdded, Step: "new", After: "skipped"}, {Kind: StepRemoved, Step: "old", Before: "succeeded"}},
		},
		{
			name: "a new step that fails is a regression",
			a:    run(),
			b:    run(&record.Step{Name: "new", Status: record.Failed}),
			want: []Change{{Kind: StepAdded, Regression: true, Step: "new", After: "failed"}},
		},
		{
			name: "an RPO that grew",
			a:    &record.Record{Protected: []*record.Protected{{Addr: "replication_set.s", RPO: record.Duration(time.Minute)}, {Addr: "drive_copy.c", RPO: record.Duration(time.Hour)}}},
			b:    &record.Record{Protected: []*record.Protected{{Addr: "replication_set.s", RPO: record.Duration(2 * time.Minute)}, {Addr: "drive_copy.c", RPO: record.Duration(time.Minute)}}},
			want: []Change{
				{Kind: RPOGrew, Regression: true, Address: "replication_set.s", Before: "1m", After: "2m"},
				{Kind: RPOShrank, Address: "drive_copy.c", Before: "1h", After: "1m"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, Diff(tc.a, tc.b)); d != "" {
				t.Errorf("Diff (-want +got):\n%s", d)
			}
		})
	}
}
