package report

import (
	"strings"
	"testing"
)

// FuzzParseLine reads arbitrary text as a line of a step's output log,
// which anyone who can write the run's folder may have edited: a line is
// either read as stamped, its text what followed " | ", or kept whole.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"2026-12-07T10:45:12.123Z stdout | hello",
		"2026-12-07T10:45:12.123Z stderr | a | b",
		"not stamped",
		"2026-12-07T10:45:12.123Z stdout",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := parseLine(s)
		if l.At.IsZero() {
			if l.Text != s || l.Stream != "" {
				t.Fatalf("parseLine(%q) = %+v: an unstamped line must be kept whole", s, l)
			}
			return
		}
		if want := l.At.Format(logTime) + " " + l.Stream + " | " + l.Text; want != s && !strings.HasSuffix(s, " | "+l.Text) {
			t.Fatalf("parseLine(%q) = %+v, which does not give the line back", s, l)
		}
	})
}
