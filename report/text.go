package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/drover-dr/drover/internal/plural"
	"github.com/drover-dr/drover/record"
)

// TextOptions change what Text shows.
type TextOptions struct {
	// Output adds every step's full output, each line with its time and
	// stream; without it a step says how many lines it printed.
	Output bool
	// Color marks statuses and what is over budget with terminal colours.
	Color bool
}

// Text writes the record of a run for people: the run, its RTO and RPO
// against the budgets, then every step wave by wave.
func Text(w io.Writer, s *record.Store, r *record.Record, opts TextOptions) error {
	b := bufio.NewWriter(w)
	p := &textPrinter{w: b, s: s, r: r, opts: opts}
	p.header()
	p.drill()
	for _, wv := range waves(r) {
		fmt.Fprintf(b, "\nWave %d\n", wv.Number)
		for _, st := range wv.Steps {
			p.step(st)
		}
	}
	if len(r.Messages) > 0 {
		fmt.Fprintln(b)
		for _, m := range r.Messages {
			fmt.Fprintf(b, "%s: %s\n", capital(m.Severity), printable(m.Summary))
			if m.Detail != "" {
				fmt.Fprintf(b, "%s\n", indent(printable(m.Detail), "  "))
			}
		}
	}
	if p.err != nil {
		b.Flush()
		return p.err
	}
	return b.Flush()
}

type textPrinter struct {
	w    *bufio.Writer
	s    *record.Store
	r    *record.Record
	opts TextOptions
	// err is the first output log that could not be read; the rest of the
	// report is still written.
	err error
}

func (p *textPrinter) printf(format string, args ...any) { fmt.Fprintf(p.w, format, args...) }

func (p *textPrinter) header() {
	r := p.r
	p.printf("Run %s of runbook %q (%s): %s\n", r.RunID, r.Runbook, r.Kind, p.status(r.Status))
	p.printf("  started   %s\n", formatTime(r.StartedAt))
	if !r.FinishedAt.IsZero() {
		p.printf("  finished  %s\n", formatTime(r.FinishedAt))
	}
	p.printf("  config    %s\n", configLine(r.Config))
	p.printf("  RTO       %s\n", p.rtoLine())
	if len(r.Protected) == 0 && r.Budget.RPO == 0 {
		return
	}
	budget := "no budget"
	if r.Budget.RPO > 0 {
		budget = "budget " + formatDuration(time.Duration(r.Budget.RPO))
	}
	p.printf("  RPO       %s\n", budget)
	width := 0
	for _, pr := range r.Protected {
		width = max(width, len(pr.Addr))
	}
	for _, pr := range r.Protected {
		over := ""
		if rpoOver(r, pr) {
			over = "  " + p.paint(red, "OVER BUDGET")
		}
		last := ""
		if !pr.LastChange.IsZero() {
			last = "  (last replicated change " + formatTime(pr.LastChange) + ")"
		}
		p.printf("    %-*s  %s%s%s\n", width, pr.Addr, formatDuration(time.Duration(pr.RPO)), over, last)
	}
}

func configLine(c record.Config) string {
	s := printable(c.Dir)
	switch {
	case c.Commit == "":
		return s + " (not in git)"
	case c.Dirty:
		return s + " at git commit " + c.Commit + ", with uncommitted changes"
	default:
		return s + " at git commit " + c.Commit
	}
}

func (p *textPrinter) rtoLine() string {
	r := p.r
	budget := "no budget"
	if r.Budget.RTO > 0 {
		budget = "budget " + formatDuration(time.Duration(r.Budget.RTO))
	}
	if r.RTO == 0 {
		return notMeasured(r) + " (" + budget + ")"
	}
	s := formatDuration(time.Duration(r.RTO)) + " (" + budget + ")"
	if rtoOver(r) {
		s += "  " + p.paint(red, "OVER BUDGET by "+formatDuration(time.Duration(r.RTO-r.Budget.RTO)))
	}
	return s
}

// Terminal colours, as the rest of the CLI's output uses them.
const (
	red    = "31"
	green  = "32"
	yellow = "33"
)

func (p *textPrinter) paint(code, s string) string {
	if !p.opts.Color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p *textPrinter) status(s record.Status) string {
	switch s {
	case record.Succeeded:
		return p.paint(green, string(s))
	case record.Failed:
		return p.paint(red, string(s))
	case record.Interrupted:
		return p.paint(yellow, string(s))
	}
	return string(s)
}

// notMeasured says why a run has no RTO: the engine measures it when the
// run ends, and a run still going, or killed, has not ended.
func notMeasured(r *record.Record) string {
	if r.FinishedAt.IsZero() {
		return "not measured: the run has not finished"
	}
	return "not measured: no step finished"
}

func (p *textPrinter) step(s *record.Step) {
	took := ""
	if d, ok := duration(p.r, s); ok {
		took = " in " + formatDuration(d)
		if s.Status == record.Interrupted || s.Status == record.Running {
			took = " after " + formatDuration(d)
		}
	}
	on := ""
	if s.Host != "" {
		on = " on " + s.Host
	}
	p.printf("  %s  %s%s%s  (%s)\n", s.Name, p.status(s.Status), took, on, s.Action)
	const in = "      "
	if s.Summary != "" {
		p.printf("%s%s\n", in, printable(s.Summary))
	}
	if len(s.After) > 0 {
		p.printf("%safter %s\n", in, strings.Join(s.After, ", "))
	}
	if s.SkipReason != "" {
		p.printf("%sskipped: %s\n", in, printable(s.SkipReason))
	}
	if !s.StartedAt.IsZero() {
		p.printf("%sstarted %s", in, formatClock(s.StartedAt))
		if !s.FinishedAt.IsZero() {
			p.printf(", finished %s", formatClock(s.FinishedAt))
		}
		p.printf("\n")
	}
	if s.Attempts > 1 || s.ExitCode != nil {
		var parts []string
		if s.Attempts > 0 {
			parts = append(parts, fmt.Sprintf("attempts %d", s.Attempts))
		}
		if s.ExitCode != nil {
			parts = append(parts, fmt.Sprintf("exit code %d", *s.ExitCode))
		}
		p.printf("%s%s\n", in, strings.Join(parts, ", "))
	}
	if a := s.Answer; a != nil {
		p.printf("%sasked %q\n", in, printable(a.Question))
		p.printf("%sanswered %q by %s at %s via %s\n", in, printable(a.Answer), printable(a.By), formatTime(a.At), a.Via)
	}
	for _, c := range s.Checks {
		result := "passed"
		if !c.Passed {
			result = p.paint(red, "FAILED")
		}
		p.printf("%scheck %s %s: %s", in, c.Kind, printable(c.Target), result)
		if c.Detail != "" {
			p.printf(" (%s)", printable(c.Detail))
		}
		if !c.At.IsZero() {
			p.printf(" at %s", formatClock(c.At))
		}
		p.printf("\n")
	}
	if s.Error != "" {
		// Later lines of a long error line up under its first.
		p.printf("%serror: %s\n", in, strings.ReplaceAll(printable(s.Error), "\n", "\n"+in+"       "))
	}
	p.output(s, in)
}

func (p *textPrinter) output(s *record.Step, in string) {
	if s.Output == "" {
		return
	}
	if !p.opts.Output {
		n := 0
		err := EachOutputLine(p.s, p.r.RunID, s, func(Line) { n++ })
		if err != nil {
			p.unreadable(in+"output: ", err)
			return
		}
		p.printf("%soutput: %s (--output shows them)\n", in, plural.Count(n, "line"))
		return
	}
	p.printf("%soutput:\n", in)
	err := EachOutputLine(p.s, p.r.RunID, s, func(l Line) {
		if l.At.IsZero() {
			p.printf("%s  %s\n", in, printable(l.Text))
			return
		}
		p.printf("%s  %s %s | %s\n", in, formatClock(l.At), l.Stream, printable(l.Text))
	})
	if err != nil {
		// Lines read before the error are shown above it.
		p.unreadable(in+"  the rest ", err)
	}
}

// unreadable says that a step's output log could not be read (or not to
// its end), and keeps the first such error for Text to return.
func (p *textPrinter) unreadable(prefix string, err error) {
	p.printf("%scannot be read: %v\n", prefix, err)
	if p.err == nil {
		p.err = err
	}
}

// indent prefixes every line of s with in.
func indent(s, in string) string {
	return in + strings.ReplaceAll(s, "\n", "\n"+in)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
