package record

import (
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
			}
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
			got, err := e.Encode(r)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("Encode differs from Marshal (-Marshal +Encode):\n%s", d)
			}
		})
	}
}
