package main

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/drover-dr/drover/internal/atomicfile"

	"github.com/drover-dr/drover/record"
	"github.com/drover-dr/drover/report"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

// errRegressions reports a report diff whose later run did worse: exit
// code 2, as other comparisons that found something.
var errRegressions = fmt.Errorf("the later run has regressions: %w", errChanges)

type reportShowOptions struct {
	html   string
	output bool
}

func newReportCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "List, show and compare the records of runbook runs",
		Long: `Every failover, failback, drill and runbook run leaves a record in .drover/runs of the
configuration folder: its steps with their full output, prompt answers, check results,
and the measured RTO and RPO against the runbook's budgets.

` + exitCodesHelp,
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the recorded runs, the newest last",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return runReportList(g) },
	}
	o := &reportShowOptions{}
	show := &cobra.Command{
		Use:   "show RUN",
		Short: "Show the record of a run (RUN may be a unique prefix of its ID)",
		Long: `Shows the run, its RTO and RPO against the budgets, and every step wave by wave with its
status, time, host, attempts, exit code, prompt answer, checks and error. --output adds
every step's full output, each line with its time and stream. --json prints the record
document on one line. --html FILE writes the report as one HTML page that needs nothing
else to be read (a timeline chart of the steps, every output folded under its step).

` + exitCodesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runReportShow(g, o, args[0]) },
	}
	show.Flags().StringVar(&o.html, "html", "", "write the report as a self-contained HTML page to `FILE`")
	show.Flags().BoolVar(&o.output, "output", false, "show every step's full output")
	diff := &cobra.Command{
		Use:   "diff RUN_A RUN_B",
		Short: "Show what changed from one run to a later one",
		Long: `Compares run B with an earlier run A of the same runbook and lists what changed:
regressions (!) are a step, or the whole recovery, more than 20% slower (and by more
than 100ms), a step failing that did not, a check that stopped passing, an RPO that
grew; + and - are steps added and removed, ~ anything that improved. The exit code is
2 when there are regressions.

` + exitCodesHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return runReportDiff(g, args[0], args[1]) },
	}
	cmd.AddCommand(list, show, diff)
	return cmd
}

// runStore is the configuration folder's store of run records; --chdir
// has made that folder the working one.
func runStore() *record.Store { return record.NewStore(record.DefaultDir) }

func runReportList(g *globalOptions) error {
	v := g.newView()
	runs, err := runStore().List()
	// A folder that holds no readable record does not hide the others.
	var warnings hcl.Diagnostics
	for _, e := range unjoin(err) {
		warnings = append(warnings, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unreadable run record",
			Detail: e.Error() + ". Move the folder out of " + record.DefaultDir + " if it is not a run, or restore its record.json."})
	}
	v.diagnostics(warnings)
	if g.json {
		for _, r := range runs {
			v.event("run", map[string]any{"run": report.Summarize(r)})
		}
		return nil
	}
	if len(runs) == 0 {
		v.printf("No runs recorded in %s.\n", record.DefaultDir)
		return nil
	}
	return report.List(v.out, runs)
}

// unjoin lists the errors errors.Join made err of.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err != nil {
		return []error{err}
	}
	return nil
}

func runReportShow(g *globalOptions, o *reportShowOptions, id string) error {
	v := g.newView()
	if g.json && o.output {
		return errors.New("--output shows step output in the text report; with --json, read the logs each step's \"output\" names in the run's folder under " + record.DefaultDir)
	}
	s := runStore()
	r, err := s.Load(id)
	if err != nil {
		return err
	}
	if o.html != "" {
		var page bytes.Buffer
		logErr := report.HTML(&page, s, r)
		if page.Len() == 0 {
			return logErr
		}
		if err := atomicfile.Write(o.html, page.Bytes()); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
		if g.json {
			v.event("report_written", map[string]any{"run_id": r.RunID, "path": o.html})
		} else {
			v.printf("Wrote the report of run %s to %s.\n", r.RunID, o.html)
		}
		return logErr
	}
	if g.json {
		return report.JSON(v.out, r)
	}
	return report.Text(v.out, s, r, report.TextOptions{Output: o.output, Color: v.color})
}

func runReportDiff(g *globalOptions, idA, idB string) error {
	v := g.newView()
	s := runStore()
	a, err := s.Load(idA)
	if err != nil {
		return err
	}
	b, err := s.Load(idB)
	if err != nil {
		return err
	}
	changes := report.Diff(a, b)
	if g.json {
		for _, c := range changes {
			v.event("report_change", map[string]any{"change": c})
		}
		v.event("report_diff", map[string]any{"run_a": a.RunID, "run_b": b.RunID, "changes": len(changes), "regressions": report.Regressions(changes)})
	} else if err := report.WriteDiff(v.out, a, b, changes); err != nil {
		return err
	}
	if report.Regressions(changes) > 0 {
		return errRegressions
	}
	return nil
}
