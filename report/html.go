package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"sync"
	"time"

	"github.com/drover-dr/drover/record"
)

//go:embed templates
var assets embed.FS

// page is parsed once, at the first page: the template and its style
// sheet are part of the binary, so the page they make needs nothing else
// to be read. Parsing it as the package starts took 0.7 ms of the start of
// every drover process, the CLI's commands and the provider plugins, most
// of which make no page.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report.html.tmpl").ParseFS(assets, "templates/report.html.tmpl"))
})

// style is the page's style sheet, set inline: it is the package's own,
// not text from a record.
var style = sync.OnceValue(func() template.CSS {
	b, err := assets.ReadFile("templates/report.css")
	if err != nil {
		panic(err)
	}
	return template.CSS(b)
})

// HTML appends to out the record of a run as one self-contained page: the
// run and its budgets, a timeline chart of the steps, and every step with
// its prompt answer, checks, error and full output (folded, to keep a page
// of long outputs usable). Everything from the record goes through
// html/template's escaping, done by the template or, in the parts written
// once per step, by the code that writes them (html_steps.go).
//
// An output log that cannot be read is said so on the page, which is
// written all the same, and its error returned.
func HTML(out *bytes.Buffer, s *record.Store, r *record.Record) error {
	p, logErr := newPageData(s, r)
	// Rendered in out itself, a page of a thousand steps not copied from
	// a buffer of its own, and cut off again if rendering fails, so that
	// a failure leaves no half page.
	start := out.Len()
	out.Grow(p.size())
	if err := page().Execute(out, p); err != nil {
		out.Truncate(start)
		return fmt.Errorf("rendering the report of run %s: %w", r.RunID, err)
	}
	return logErr
}

type pageData struct {
	Style       template.CSS
	RunID       string
	Runbook     string
	Kind        string
	Status      string
	Started     string
	Finished    string
	ConfigDir   string
	Commit      string
	Dirty       bool
	RTO         string // measured, or why not
	RTOMeasured bool
	RTOBudget   string
	RTOOver     bool
	RPOBudget   string
	Protected   []protectedRow
	Timeline    timeline
	// TimelineRows is the chart's rows, written by timelineRows.
	TimelineRows template.HTML
	Statuses     []string
	Waves        []pageWave
	Messages     []record.Message
	Drill        *record.DrillRun
	// DrillVerdicts say what the drill proved.
	DrillVerdicts []string
}

// size is about the size of the page: its parts written per step, and
// room for the frame around them. Grown to it at once, the page's buffer
// is not copied over and over as it fills (a run of 1,000 steps: 1.3 MB).
func (p *pageData) size() int {
	n := len(p.Style) + len(p.TimelineRows) + 16<<10
	for _, w := range p.Waves {
		n += len(w.Steps) + 64
	}
	return n
}

type protectedRow struct {
	Addr, RPO, LastChange string
	Over                  bool
}

type pageWave struct {
	Number int
	// Steps is the wave's steps, written by stepArticles.
	Steps template.HTML
}

type pageStep struct {
	Name, Status, Action, Summary, Host string
	After                               []string
	Duration, Started, Finished         string
	SkipReason                          string
	Attempts                            int
	ExitCode                            *int
	Answer                              *record.Answer
	AnsweredAt                          string
	Checks                              []pageCheck
	Error                               string
	Output                              []pageLine
	OutputError                         string
}

type pageCheck struct {
	Kind, Target, Detail, At string
	Passed                   bool
}

type pageLine struct {
	At, Stream, Text string
}

// newPageData returns the page of r, and the first output log it could
// not read.
func newPageData(s *record.Store, r *record.Record) (*pageData, error) {
	p := &pageData{
		Style:     style(),
		RunID:     r.RunID,
		Runbook:   r.Runbook,
		Kind:      string(r.Kind),
		Status:    string(r.Status),
		Started:   formatTime(r.StartedAt),
		Finished:  formatTime(r.FinishedAt),
		ConfigDir: printable(r.Config.Dir),
		Commit:    r.Config.Commit,
		Dirty:     r.Config.Dirty,
		RTOOver:   rtoOver(r),
		Timeline:  newTimeline(r),
	}
	p.TimelineRows = timelineRows(&p.Timeline)
	p.RTO = notMeasured(r)
	if r.Drill != nil {
		p.Drill, p.DrillVerdicts = r.Drill, drillVerdicts(r.Drill)
	}
	if r.RTO > 0 {
		p.RTO, p.RTOMeasured = formatDuration(time.Duration(r.RTO)), true
	}
	if r.Budget.RTO > 0 {
		p.RTOBudget = formatDuration(time.Duration(r.Budget.RTO))
	}
	if r.Budget.RPO > 0 {
		p.RPOBudget = formatDuration(time.Duration(r.Budget.RPO))
	}
	for _, pr := range r.Protected {
		p.Protected = append(p.Protected, protectedRow{Addr: pr.Addr, RPO: formatDuration(time.Duration(pr.RPO)),
			LastChange: formatTime(pr.LastChange), Over: rpoOver(r, pr)})
	}
	for _, m := range r.Messages {
		p.Messages = append(p.Messages, record.Message{Severity: m.Severity, Summary: printable(m.Summary), Detail: printable(m.Detail)})
	}
	var logErr error
	seen := map[record.Status]bool{}
	for _, wv := range waves(r) {
		steps := make([]pageStep, 0, len(wv.Steps))
		for _, st := range wv.Steps {
			if !seen[st.Status] {
				seen[st.Status] = true
				p.Statuses = append(p.Statuses, string(st.Status))
			}
			ps, err := newPageStep(s, r, st)
			if err != nil && logErr == nil {
				logErr = err
			}
			steps = append(steps, ps)
		}
		p.Waves = append(p.Waves, pageWave{Number: wv.Number, Steps: stepArticles(steps)})
	}
	return p, logErr
}

func newPageStep(s *record.Store, r *record.Record, st *record.Step) (pageStep, error) {
	ps := pageStep{
		Name: st.Name, Status: string(st.Status), Action: st.Action, Summary: printable(st.Summary), Host: st.Host,
		After: st.After, Started: formatClock(st.StartedAt), Finished: formatClock(st.FinishedAt),
		SkipReason: printable(st.SkipReason), Attempts: st.Attempts, ExitCode: st.ExitCode, Error: printable(st.Error),
	}
	if d, ok := duration(r, st); ok {
		ps.Duration = formatDuration(d)
	}
	if a := st.Answer; a != nil {
		ps.Answer = &record.Answer{Question: printable(a.Question), Answer: printable(a.Answer), By: printable(a.By), Via: a.Via}
		ps.AnsweredAt = formatTime(a.At)
	}
	for _, c := range st.Checks {
		ps.Checks = append(ps.Checks, pageCheck{Kind: c.Kind, Target: printable(c.Target), Detail: printable(c.Detail), At: formatClock(c.At), Passed: c.Passed})
	}
	// The page holds every line, so they are all in memory while it is
	// made; text reports stream them.
	err := EachOutputLine(s, r.RunID, st, func(l Line) {
		ps.Output = append(ps.Output, pageLine{At: formatClock(l.At), Stream: l.Stream, Text: printable(l.Text)})
	})
	if err != nil {
		ps.OutputError = err.Error()
	}
	return ps, err
}
