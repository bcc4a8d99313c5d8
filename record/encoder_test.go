package record

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestEncoderMatchesMarshal saves successive versions of one record, as a
// run does, and checks that each is the document Marshal makes of it: the
// steps the encoder kept from an earlier version included.
func TestEncoderMatchesMarshal(t *testing.T) {
	r := New("failover", Failover, Config{Dir: "/srv/dr <main>", Commit: "abc123", Dirty: true}, Budget{RPO: Duration(15 * time.Minute)})
	t0 := r.StartedAt
	code := 3
	e := &Encoder{}
	// replace changes step i as a run does: a changed copy in its place.
	replace := func(i int, f func(*Step)) {
		cp := *r.Steps[i]
		f(&cp)
		r.Steps[i] = &cp
	}
	for _, tc := range []struct {
		name   string
		change func()
	}{
		{"no steps", func() {}},
		{"steps listed", func() {
			r.Steps = []*Step{
				{Name: "pre", Action: "run", Summary: `run "a\n  \"steps\": []"`, Host: "fs2", Status: Pending},
				{Name: "confirm", Action: "prompt", Wave: 1, After: []string{"pre"}, Status: Pending},
				{Name: "post", Action: "check", Wave: 2, After: []string{"pre", "confirm"}, Status: Pending},
				// The steps of a wave share their after list, as the
				// executor's do; a list's prefix is another list.
				{Name: "post2", Action: "check", Wave: 2, Status: Pending},
				{Name: "post3", Action: "check", Wave: 2, Status: Pending},
			}
			r.Steps[3].After = r.Steps[2].After
			r.Steps[4].After = r.Steps[2].After[:1]
		}},
		{"a step starts", func() {
			replace(0, func(s *Step) { s.Status, s.StartedAt, s.Attempts = Running, t0, 1 })
		}},
		{"it ends, the next is answered", func() {
			replace(0, func(s *Step) {
				s.Status, s.FinishedAt, s.ExitCode, s.Output = Failed, t0.Add(time.Second), &code, "pre.log"
			})
			replace(1, func(s *Step) {
				s.Answer = &Answer{Question: "Go on?", Answer: "yes", By: "root", At: t0, Via: "terminal"}
			})
		}},
		{"messages and checks", func() {
			r.Messages = append(r.Messages, Message{Severity: "warning", Summary: "Interrupt received", Detail: "<&>"})
			replace(2, func(s *Step) {
				s.Checks = []*Check{{Kind: "tcp", Target: "fs2:445", Passed: true, At: t0}}
			})
		}},
		{"a sharing step changes", func() {
			replace(3, func(s *Step) { s.Status, s.StartedAt, s.Attempts = Running, t0, 1 })
			replace(4, func(s *Step) { s.After = append([]string{"other"}, s.After[1:]...) })
		}},
		{"finished", func() {
			r.Protected = []*Protected{{Addr: "replication_set.shares", RPO: Duration(time.Minute)}}
			r.Drill = &DrillRun{Folder: "/d", Clones: []*Clone{}, Inventory: []string{}}
			r.Finish(t0.Add(2*time.Second), Failed)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.change()
			want, err := Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := e.Encode(&got, r); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), got.String()); d != "" {
				t.Errorf("Encode differs from Marshal (-Marshal +Encode):\n%s", d)
			}
			if e.Len() != len(want) {
				t.Errorf("Len() = %d after a document of %d bytes", e.Len(), len(want))
			}
		})
	}
}

// TestAppendStepMatchesMarshalIndent checks the hand-written encoding of a
// step against encoding/json's, member by member and for the text that
// needs escaping.
func TestAppendStepMatchesMarshalIndent(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 19, 6, 44, 547000000, time.UTC)
	zero, code := 0, -1
	for _, tc := range []struct {
		name string
		step Step
	}{
		{"empty", Step{}},
		{"pending", Step{Name: "w1[3]", Action: "run", Summary: "run true on h", Host: "h", Wave: 1, After: []string{"w0[0]", "w0[1]"}, Status: Pending}},
		{"finished", Step{Name: "a", Action: "run", Status: Succeeded, StartedAt: t0, FinishedAt: t0.Add(11 * time.Millisecond), Attempts: 1, ExitCode: &zero, Output: "a.log"}},
		{"failed", Step{Name: "a", Action: "run", Status: Failed, Attempts: 3, ExitCode: &code, Error: "Command failed: exit 1; \"quoted\"\nsecond line\t\\"}},
		{"skipped", Step{Name: "s", Action: "check", SkipReason: "it finished in run 20261207T190619Z-1d8b40", Status: Skipped}},
		{"escapes", Step{Name: "e", Action: "run", Summary: "run <a> && b \x01\x7f é \u2028\u2029 \xff", Host: "fs2 & fs3"}},
		{"empty after", Step{Name: "x", After: []string{}}},
		{"whole second", Step{Name: "x", StartedAt: t0.Truncate(time.Second)}},
		{"not utc", Step{Name: "x", StartedAt: t0.In(time.FixedZone("CET", 3600))}},
		{"answer and checks", Step{Name: "p", Action: "prompt",
			Answer: &Answer{Question: "Go on?", Answer: "yes", By: "root <r@h>", At: t0, Via: "terminal"},
			Checks: []*Check{{Kind: "tcp", Target: "fs2:445", Passed: true, At: t0}, {Kind: "condition", Target: "x", Detail: "the condition is false", At: t0}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.MarshalIndent(&tc.step, "    ", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodeStep(&tc.step)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("the encoder differs from MarshalIndent (-MarshalIndent +Encoder):\n%s", d)
			}
		})
	}
	t.Run("year out of range", func(t *testing.T) {
		s := &Step{StartedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
		_, want := json.MarshalIndent(s, "    ", "  ")
		_, got := encodeStep(s)
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("error %v, want %v", got, want)
		}
	})
}

// encodeStep is the whole encoding of s by a new Encoder.
func encodeStep(s *Step) ([]byte, error) {
	d, err := (&Encoder{}).step(s, map[afterKey][]byte{})
	return append(append(append([]byte(nil), d.head...), d.after...), d.tail...), err
}
