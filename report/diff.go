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

// ChangeKind is what changed between two runs.
type ChangeKind string

const (
	RTOSlower    ChangeKind = "rto_slower"
	RTOFaster    ChangeKind = "rto_faster"
	StepAdded    ChangeKind = "step_added"
	StepRemoved  ChangeKind = "step_removed"
	StepFailed   ChangeKind = "step_failed"
	StepFixed    ChangeKind = "step_fixed"
	StepSlower   ChangeKind = "step_slower"
	StepFaster   ChangeKind = "step_faster"
	CheckFailing ChangeKind = "check_failing"
	CheckPassing ChangeKind = "check_passing"
	RPOGrew      ChangeKind = "rpo_grew"
	RPOShrank    ChangeKind = "rpo_shrank"
)

// Change is one difference between run A and the later run B. A
// regression is B doing worse: a step (or the whole recovery) more than
// 20% slower, a step failing that did not (or was not there), a check no
// longer passing, a data-loss window grown.
type Change struct {
	Kind       ChangeKind `json:"kind"`
	Regression bool       `json:"regression"`
	Step       string     `json:"step,omitempty"`
	// Check is a check's kind and target ("tcp fs2:445").
	Check   string `json:"check,omitempty"`
	Address string `json:"address,omitempty"`
	// Before and After are what A and B measured or said, as text.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Percent is how much longer (or, negative, shorter) B took than A.
	Percent int `json:"percent,omitempty"`
}

// slowerBy is how much longer B may take than A before it counts; and
// below noise, differences are the scheduler's, not the step's, however
// large in percent (a 5 ms step taking 8 ms).
const (
	slowerBy = 0.20
	noise    = 100 * time.Millisecond
)

// Diff lists what changed from run a to run b: the RTO, then b's steps
// in wave order, the steps a had and b has not, and the RPO of each
// protected resource both measured.
func Diff(a, b *record.Record) []Change {
	var out []Change
	if c, ok := timing(time.Duration(a.RTO), time.Duration(b.RTO), RTOSlower, RTOFaster); ok {
		out = append(out, c)
	}
	for _, wv := range waves(b) {
		for _, sb := range wv.Steps {
			sa := a.Step(sb.Name)
			if sa == nil {
				// A new step that fails is a new failure too.
				out = append(out, Change{Kind: StepAdded, Regression: sb.Status == record.Failed, Step: sb.Name, After: string(sb.Status)})
				continue
			}
			out = append(out, stepChanges(a, b, sa, sb)...)
		}
	}
	for _, wv := range waves(a) {
		for _, sa := range wv.Steps {
			if b.Step(sa.Name) == nil {
				out = append(out, Change{Kind: StepRemoved, Step: sa.Name, Before: string(sa.Status)})
			}
		}
	}
	for _, pb := range b.Protected {
		for _, pa := range a.Protected {
			if pa.Addr != pb.Addr {
				continue
			}
			c := Change{Address: pb.Addr, Before: formatDuration(time.Duration(pa.RPO)), After: formatDuration(time.Duration(pb.RPO))}
			switch {
			case pb.RPO > pa.RPO:
				c.Kind, c.Regression = RPOGrew, true
			case pb.RPO < pa.RPO:
				c.Kind = RPOShrank
			default:
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

func stepChanges(a, b *record.Record, sa, sb *record.Step) []Change {
	var out []Change
	switch {
	case sb.Status == record.Failed && sa.Status != record.Failed:
		out = append(out, Change{Kind: StepFailed, Regression: true, Step: sb.Name, Before: string(sa.Status), After: firstLine(sb.Error)})
	case sa.Status == record.Failed && sb.Status == record.Succeeded:
		out = append(out, Change{Kind: StepFixed, Step: sb.Name, Before: firstLine(sa.Error), After: string(sb.Status)})
	}
	// Only durations of steps that did their work both times compare: a
	// failure may end a step early, a skip does not run it.
	if sa.Status == record.Succeeded && sb.Status == record.Succeeded {
		da, okA := duration(a, sa)
		db, okB := duration(b, sb)
		if c, ok := timing(da, db, StepSlower, StepFaster); ok && okA && okB {
			c.Step = sb.Name
			out = append(out, c)
		}
	}
	// Checks pair up by kind and target, the n-th with the n-th where a
	// step checks the same thing twice (a pre and a post condition).
	seen := map[string]int{}
	for _, cb := range sb.Checks {
		key := cb.Kind + " " + cb.Target
		n := seen[key]
		seen[key]++
		ca := nthCheck(sa, key, n)
		if ca == nil || ca.Passed == cb.Passed {
			continue
		}
		c := Change{Step: sb.Name, Check: printable(key), Before: printable(ca.Detail), After: printable(cb.Detail)}
		if cb.Passed {
			c.Kind = CheckPassing
		} else {
			c.Kind, c.Regression = CheckFailing, true
		}
		out = append(out, c)
	}
	return out
}

func nthCheck(s *record.Step, key string, n int) *record.Check {
	for _, c := range s.Checks {
		if c.Kind+" "+c.Target != key {
			continue
		}
		if n == 0 {
			return c
		}
		n--
	}
	return nil
}

// timing compares two measured durations; zero is not measured.
func timing(a, b time.Duration, slower, faster ChangeKind) (Change, bool) {
	if a <= 0 || b <= 0 {
		return Change{}, false
	}
	delta := b - a
	c := Change{Before: formatDuration(a), After: formatDuration(b), Percent: int(100 * float64(delta) / float64(a))}
	switch {
	case delta > noise && float64(delta) > slowerBy*float64(a):
		c.Kind, c.Regression = slower, true
	case -delta > noise && float64(-delta) > slowerBy*float64(a):
		c.Kind = faster
	default:
		return Change{}, false
	}
	return c, true
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return printable(line)
}

// Regressions counts the changes that are regressions.
func Regressions(changes []Change) int {
	n := 0
	for _, c := range changes {
		if c.Regression {
			n++
		}
	}
	return n
}

// WriteDiff writes the changes from run a to run b for people: "!" marks a
// regression, "+" and "-" a step added or removed, "~" any other change.
func WriteDiff(w io.Writer, a, b *record.Record, changes []Change) error {
	bw := bufio.NewWriter(w)
	for _, x := range []struct {
		label string
		r     *record.Record
	}{{"A", a}, {"B", b}} {
		fmt.Fprintf(bw, "Run %s: %s of runbook %q (%s), %s, started %s\n", x.label, x.r.RunID, x.r.Runbook, x.r.Kind, x.r.Status, formatTime(x.r.StartedAt))
	}
	if a.Runbook != b.Runbook {
		fmt.Fprintf(bw, "The runs are of different runbooks: steps of the same name may do different things.\n")
	}
	fmt.Fprintln(bw)
	if len(changes) == 0 {
		fmt.Fprintln(bw, "No changes between the two runs.")
		return bw.Flush()
	}
	for _, c := range changes {
		fmt.Fprintf(bw, "%s %s\n", mark(c), describe(c))
	}
	n := Regressions(changes)
	fmt.Fprintf(bw, "\n%s, %s.\n", plural.Count(n, "regression"), plural.Count(len(changes)-n, "other change"))
	return bw.Flush()
}

func mark(c Change) string {
	switch {
	case c.Regression:
		return "!"
	case c.Kind == StepAdded:
		return "+"
	case c.Kind == StepRemoved:
		return "-"
	}
	return "~"
}

func describe(c Change) string {
	switch c.Kind {
	case RTOSlower, RTOFaster:
		return fmt.Sprintf("RTO %s: %s -> %s (%+d%%)", changeWord(c.Kind), c.Before, c.After, c.Percent)
	case StepSlower, StepFaster:
		return fmt.Sprintf("step %s %s: %s -> %s (%+d%%)", c.Step, changeWord(c.Kind), c.Before, c.After, c.Percent)
	case StepAdded:
		return fmt.Sprintf("step %s added (%s)", c.Step, c.After)
	case StepRemoved:
		return fmt.Sprintf("step %s removed (it %s in A)", c.Step, c.Before)
	case StepFailed:
		return fmt.Sprintf("step %s failed (it %s in A): %s", c.Step, c.Before, c.After)
	case StepFixed:
		return fmt.Sprintf("step %s succeeded (it failed in A: %s)", c.Step, c.Before)
	case CheckFailing:
		return fmt.Sprintf("check %s of step %s stopped passing: %s", c.Check, c.Step, c.After)
	case CheckPassing:
		return fmt.Sprintf("check %s of step %s passes now (it failed in A: %s)", c.Check, c.Step, c.Before)
	case RPOGrew, RPOShrank:
		return fmt.Sprintf("RPO of %s %s: %s -> %s", c.Address, changeWord(c.Kind), c.Before, c.After)
	}
	return string(c.Kind)
}

func changeWord(k ChangeKind) string {
	switch k {
	case RTOSlower, StepSlower:
		return "slower"
	case RTOFaster, StepFaster:
		return "faster"
	case RPOGrew:
		return "grew"
	}
	return "shrank"
}
