package report

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/drover-dr/drover/record"
)

// Summary is one run in the list of runs.
type Summary struct {
	RunID      string          `json:"run_id"`
	Runbook    string          `json:"runbook"`
	Kind       record.Kind     `json:"kind"`
	Status     record.Status   `json:"status"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
	RTO        record.Duration `json:"rto,omitzero"`
	RTOBudget  record.Duration `json:"rto_budget,omitzero"`
	RTOOver    bool            `json:"rto_over_budget,omitempty"`
}

// Summarize is r's line in the list of runs.
func Summarize(r *record.Record) Summary {
	return Summary{
		RunID:      r.RunID,
		Runbook:    r.Runbook,
		Kind:       r.Kind,
		Status:     r.Status,
		StartedAt:  r.StartedAt,
		FinishedAt: r.FinishedAt,
		RTO:        r.RTO,
		RTOBudget:  r.Budget.RTO,
		RTOOver:    rtoOver(r),
	}
}

// List writes the runs as a table, in the order given (the store's:
// oldest first, so the newest is nearest the prompt).
func List(w io.Writer, runs []*record.Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tRUNBOOK\tKIND\tSTATUS\tSTARTED\tRTO")
	for _, r := range runs {
		rto := "-"
		if r.RTO > 0 {
			rto = formatDuration(time.Duration(r.RTO))
			if rtoOver(r) {
				rto += " (over " + formatDuration(time.Duration(r.Budget.RTO)) + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.RunID, r.Runbook, r.Kind, r.Status, formatTime(r.StartedAt), rto)
	}
	return tw.Flush()
}
