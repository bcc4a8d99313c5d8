package report

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/drover-dr/drover/record"
)

// Line is one line of a step's output as the record's log keeps it.
type Line struct {
	At     time.Time
	Stream string
	Text   string
}

// logTime is how the record's output logs stamp each line.
const logTime = "2006-01-02T15:04:05.000Z"

// parseLine reads "TIME STREAM | TEXT"; a line in another shape (a log
// edited by hand) is kept whole as text, without time or stream.
func parseLine(s string) Line {
	stamp, rest, ok := strings.Cut(s, " ")
	if !ok {
		return Line{Text: s}
	}
	at, err := time.Parse(logTime, stamp)
	if err != nil {
		return Line{Text: s}
	}
	stream, text, ok := strings.Cut(rest, " | ")
	if !ok {
		return Line{Text: s}
	}
	return Line{At: at, Stream: stream, Text: text}
}

// EachOutputLine calls fn with each line of the output log of step in
// run runID, in the order the lines ended, reading the log as it goes (a
// step's output may be larger than memory); a step that printed nothing
// has none.
func EachOutputLine(s *record.Store, runID string, step *record.Step, fn func(Line)) error {
	if step.Output == "" {
		return nil
	}
	rc, err := s.OpenOutput(runID, step.Output)
	if err != nil {
		return fmt.Errorf("the output of step %s: %w", step.Name, err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	// A step may print a line of any length; the log keeps it whole.
	sc.Buffer(make([]byte, 64*1024), 1<<30)
	for sc.Scan() {
		fn(parseLine(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("the output of step %s: %w", step.Name, err)
	}
	return nil
}
