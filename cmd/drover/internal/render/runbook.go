package render

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/drover-dr/drover/internal/escape"
	"github.com/drover-dr/drover/planner/plan"
)

// Runbook renders the plan of a runbook run: its steps wave by wave, each
// with what it does on which host, the skipped ones with why, then what a
// failback gives back, and a summary line.
func Runbook(w io.Writer, rb *plan.Runbook, opts Options) {
	p := &printer{w: &strings.Builder{}, opts: opts}
	b := p.w
	runs, skipped := rb.Runs(), len(rb.Steps)-rb.Runs()
	if runs == 0 && len(rb.Release) == 0 {
		fmt.Fprintf(b, "\nNo changes. Every step of runbook %q has finished", rb.Name)
		if len(rb.Steps) > 0 {
			fmt.Fprintf(b, " (%s)", rb.Steps[0].Skip)
		}
		b.WriteString(".\n")
		io.WriteString(w, b.String())
		return
	}
	title := "Runbook"
	if rb.Drill != nil {
		title = "Drill of runbook"
	}
	fmt.Fprintf(b, "\n%s %q (%s)", title, rb.Name, rb.Kind)
	if rb.Continues != "" {
		fmt.Fprintf(b, " continues run %s", rb.Continues)
	}
	var budgets []string
	if rb.RPO > 0 {
		budgets = append(budgets, "rpo "+rb.RPO.String())
	}
	if rb.RTO > 0 {
		budgets = append(budgets, "rto "+rb.RTO.String())
	}
	if len(budgets) > 0 {
		fmt.Fprintf(b, ", budgets %s", strings.Join(budgets, ", "))
	}
	b.WriteString(":\n")
	width := 0
	for _, s := range rb.Steps {
		width = max(width, len(s.Name))
	}
	wave := -1
	for _, s := range rb.Steps {
		if s.Wave != wave {
			wave = s.Wave
			fmt.Fprintf(b, "\n  wave %d\n", wave+1)
		}
		sym, what := p.color("32", "+"), escape.Text(s.Summary)
		if s.Skip != "" {
			sym, what = " ", "skipped: "+s.Skip
		}
		fmt.Fprintf(b, "    %s %-*s  %s", sym, width, s.Name, what)
		var extra []string
		if s.Skip == "" {
			if s.Timeout > 0 {
				extra = append(extra, "timeout "+s.Timeout.String())
			}
			if s.Retries > 0 {
				extra = append(extra, fmt.Sprintf("retries %d", s.Retries))
			}
			if s.OnFailure != "" && s.OnFailure != "abort" {
				extra = append(extra, "on failure "+s.OnFailure)
			}
		}
		if len(extra) > 0 {
			fmt.Fprintf(b, " (%s)", strings.Join(extra, ", "))
		}
		b.WriteString("\n")
		if s.Skip == "" {
			for _, c := range []struct {
				when string
				list []*plan.Assertion
			}{{"before", s.Preconditions}, {"after", s.Postconditions}} {
				for _, a := range c.list {
					fmt.Fprintf(b, "      %-*s  %s: %s\n", width, "", c.when, escape.Text(a.String()))
				}
			}
			described(b, s.Changes, strings.Repeat(" ", 8+width))
		}
	}
	if len(rb.Budget) > 0 {
		b.WriteString("\n  budgets:\n")
		for _, c := range rb.Budget {
			verdict := p.color("32", "within")
			if c.Over {
				verdict = p.color("31", "OVER")
			}
			fmt.Fprintf(b, "    %s %s: %s %s %s", c.Budget, c.Limit, c.Subject, plan.RoundDuration(c.Value), verdict)
			if c.Detail != "" {
				fmt.Fprintf(b, " (%s)", c.Detail)
			}
			b.WriteString("\n")
		}
	}
	if len(rb.Release) > 0 {
		b.WriteString("\n  then give back what the failover holds:\n")
		for _, rel := range rb.Release {
			fmt.Fprintf(b, "    %s %s.%s  %s\n", p.color("31", "-"), rel.Runbook, rel.Step, escape.Text(rel.Summary))
			described(b, rel.Destroy, strings.Repeat(" ", 8+len(rel.Runbook)+1+len(rel.Step)))
		}
	}
	if rb.Drill != nil {
		p.drill(b, rb.Drill)
	}
	fmt.Fprintf(b, "\n  last successful drill: %s\n", lastDrill(rb, time.Now()))
	fmt.Fprintf(b, "\n%s %d to run, %d skipped", p.color("1", "Runbook plan:"), runs, skipped)
	if len(rb.Release) > 0 {
		fmt.Fprintf(b, ", %d to give back", len(rb.Release))
	}
	b.WriteString(".\n")
	io.WriteString(w, b.String())
}

// described writes under a step what its providers say the changes do
// (a network_identity's parts, one line each, in the order they move),
// indented to the step's summary; the address leads only when the step
// holds several. Descriptions are escaped as the plan escapes them.
func described(b *strings.Builder, changes []*plan.Change, indent string) {
	for _, c := range changes {
		if c.Description == "" {
			continue
		}
		first, rest, _ := strings.Cut(escape.Text(c.Description), "\n")
		if len(changes) > 1 {
			first = c.Addr.String() + ": " + first
		}
		fmt.Fprintf(b, "%s(%s)\n", indent, first)
		if rest != "" {
			for _, line := range strings.Split(rest, "\n") {
				fmt.Fprintf(b, "%s  %s\n", indent, line)
			}
		}
	}
}
