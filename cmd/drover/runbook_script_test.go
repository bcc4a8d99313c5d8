package main

import (
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/drover-dr/drover/record"
	"github.com/rogpeppe/go-internal/testscript"
)

// runbookCmds are the script commands about runbook runs.
var runbookCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// overlapping STEP...: in the record of the latest run under
	// .drover/runs, every step named started before each of the others
	// finished: they ran at the same time.
	"overlapping": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: overlapping STEP STEP...")
		}
		records, err := filepath.Glob(ts.MkAbs(".drover/runs/*/record.json"))
		ts.Check(err)
		if len(records) == 0 {
			ts.Fatalf("no run records under .drover/runs")
		}
		slices.Sort(records)
		b, err := os.ReadFile(records[len(records)-1])
		ts.Check(err)
		rec, err := record.Unmarshal(b)
		ts.Check(err)
		var lastStart, firstEnd time.Time
		for _, name := range args {
			i := slices.IndexFunc(rec.Steps, func(s *record.Step) bool { return s.Name == name })
			if i < 0 || rec.Steps[i].StartedAt.IsZero() || rec.Steps[i].FinishedAt.IsZero() {
				ts.Fatalf("step %q did not run in %s", name, records[len(records)-1])
			}
			s := rec.Steps[i]
			ts.Logf("%s: %s to %s", name, s.StartedAt.Format("15:04:05.000"), s.FinishedAt.Format("15:04:05.000"))
			if s.StartedAt.After(lastStart) {
				lastStart = s.StartedAt
			}
			if firstEnd.IsZero() || s.FinishedAt.Before(firstEnd) {
				firstEnd = s.FinishedAt
			}
		}
		if !lastStart.Before(firstEnd) {
			ts.Fatalf("the steps did not overlap: the last started at %s, after the first finished at %s",
				lastStart.Format("15:04:05.000"), firstEnd.Format("15:04:05.000"))
		}
	},
}
