package report

import (
	"slices"
	"strings"
	"time"

	"github.com/drover-dr/drover/internal/escape"
	"github.com/drover-dr/drover/record"
)

// formatDuration writes d as people read it: milliseconds below a second,
// tenths below a minute, whole seconds above, and no trailing zero units
// ("10m", not "10m0s").
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		d = d.Round(time.Millisecond)
	case d < time.Minute:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Second)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// formatClock is a time within the run, where the date is the header's.
func formatClock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("15:04:05.000")
}

// printable escapes text from outside for a terminal or a page, keeping
// its tabs and newlines, which only lay the text out.
func printable(s string) string {
	if laidOut(s) {
		return s
	}
	parts := strings.Split(s, "\t")
	for i, p := range parts {
		parts[i] = escape.Text(p)
	}
	return strings.Join(parts, "\t")
}

// laidOut says whether s is printable ASCII without a backslash, but for
// tabs and newlines: nothing in it to escape, the text of most steps.
func laidOut(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' && c != '\n' || c > '~' || c == '\\' {
			return false
		}
	}
	return true
}

// duration is how long a step ran; ok is false for a step that never
// started. A step still running when its run ended (interrupted) ran until
// the run's end.
func duration(r *record.Record, s *record.Step) (time.Duration, bool) {
	if s.StartedAt.IsZero() {
		return 0, false
	}
	end := s.FinishedAt
	if end.IsZero() {
		end = r.FinishedAt
	}
	if end.IsZero() || end.Before(s.StartedAt) {
		return 0, false
	}
	return end.Sub(s.StartedAt), true
}

// wave is the steps of one wave, in the order of the runbook plan.
type wave struct {
	Number int // from 1, as people count
	Steps  []*record.Step
}

// waves groups the record's steps by wave, lowest first, keeping the
// plan's order within a wave.
func waves(r *record.Record) []wave {
	steps := slices.Clone(r.Steps)
	slices.SortStableFunc(steps, func(a, b *record.Step) int { return a.Wave - b.Wave })
	var out []wave
	for _, s := range steps {
		if len(out) == 0 || out[len(out)-1].Number != s.Wave+1 {
			out = append(out, wave{Number: s.Wave + 1})
		}
		out[len(out)-1].Steps = append(out[len(out)-1].Steps, s)
	}
	return out
}

// rtoOver says whether the measured RTO exceeds the runbook's budget.
func rtoOver(r *record.Record) bool {
	return r.Budget.RTO > 0 && r.RTO > r.Budget.RTO
}

// rpoOver says whether a protected resource's data-loss window exceeds the
// budget; the engine marks it, and a budget set makes it plain anyway.
func rpoOver(r *record.Record, p *record.Protected) bool {
	return p.OverBudget || r.Budget.RPO > 0 && p.RPO > r.Budget.RPO
}
