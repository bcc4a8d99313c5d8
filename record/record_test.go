package record

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	s := NewStore(t.TempDir())
	r := New("failover", Failover, Config{Dir: "/srv/dr", Commit: "abc123"}, Budget{RPO: Duration(15 * time.Minute), RTO: Duration(10 * time.Minute)})
	code := 0
	r.Steps = []*Step{
		{Name: "pre", Action: "run", Host: "fs2", Status: Succeeded, ExitCode: &code, StartedAt: r.StartedAt, FinishedAt: r.StartedAt.Add(2 * time.Second)},
		{Name: "confirm", Action: "prompt", Wave: 1, After: []string{"pre"}, Status: Succeeded,
			Answer: &Answer{Question: "Can users reach FS1?", Answer: "yes", By: "root", At: r.StartedAt, Via: "terminal"}},
	}
	r.Finish(r.StartedAt.Add(5*time.Second), Succeeded)
	if r.RTO != Duration(2*time.Second) {
		t.Errorf("RTO = %v, want 2s (the end of the last step that ran)", time.Duration(r.RTO))
	}
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(r.RunID[:10])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, got); d != "" {
		t.Errorf("record changed through Save and Load (-want +got):\n%s", d)
	}
}

func TestUnmarshalRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"not json":      `{`,
		"no version":    `{"run_id": "x"}`,
		"newer version": `{"format_version": 2, "run_id": "x"}`,
		"unknown field": `{"format_version": 1, "run_id": "x", "extra": 1}`,
		"no run id":     `{"format_version": 1}`,
		"bad duration":  `{"format_version": 1, "run_id": "x", "rto": "soon"}`,
		"wrong type":    `{"format_version": 1, "run_id": "x", "steps": 3}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Unmarshal([]byte(doc)); err == nil {
				t.Errorf("Unmarshal(%s) succeeded", doc)
			}
		})
	}
}

func TestLoadByPrefix(t *testing.T) {
	s := NewStore(t.TempDir())
	for _, id := range []string{"20261207T100000Z-aaaaaa", "20261207T100000Z-aaaabb", "20261207T110000Z-cccccc"} {
		r := New("failover", Failover, Config{}, Budget{})
		r.RunID = id
		if err := s.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Load("20261207T1000"); err == nil || !strings.Contains(err.Error(), "names 2 runs") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := s.Load("nope"); err == nil || !strings.Contains(err.Error(), "drover report list") {
		t.Errorf("unknown run: %v", err)
	}
	if r, err := s.Load("20261207T11"); err != nil || r.RunID != "20261207T110000Z-cccccc" {
		t.Errorf("unique prefix: %v, %v", r, err)
	}
	all, err := s.List()
	if err != nil || len(all) != 3 || all[0].RunID != "20261207T100000Z-aaaaaa" {
		t.Errorf("List = %d records, %v", len(all), err)
	}
}

func TestOutputKeepsEverything(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines int
		gz    bool
	}{
		{"small", 10, false},
		{"large is compressed", 40000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(t.TempDir())
			o, err := s.CreateOutput("run1", "pre")
			if err != nil {
				t.Fatal(err)
			}
			out, errw := o.Stream("stdout"), o.Stream("stderr")
			for i := range tc.lines {
				fmt.Fprintf(out, "line %d of a step's output, kept whole\n", i)
			}
			io.WriteString(errw, "no newline at the end")
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(o.Name(), ".gz") != tc.gz {
				t.Errorf("log name %s, compressed want %v", o.Name(), tc.gz)
			}
			rc, err := s.OpenOutput("run1", o.Name())
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			sc := bufio.NewScanner(rc)
			n := 0
			var last string
			for sc.Scan() {
				last = sc.Text()
				n++
			}
			if n != tc.lines+1 {
				t.Errorf("log has %d lines, want %d", n, tc.lines+1)
			}
			if !strings.HasSuffix(last, " stderr | no newline at the end") {
				t.Errorf("last line %q", last)
			}
		})
	}
}

// TestListOutlines checks that an outline is the record less what each
// step printed, checked, answered and waited for.
func TestListOutlines(t *testing.T) {
	s := NewStore(t.TempDir())
	r := New("failover", Failover, Config{Dir: "/srv/dr"}, Budget{RTO: Duration(time.Minute)})
	code := 0
	r.Steps = []*Step{
		{Name: "pre", Action: "run", Summary: "run pre.sh on fs2", Host: "fs2", Status: Succeeded, StartedAt: r.StartedAt,
			FinishedAt: r.StartedAt.Add(time.Second), Attempts: 1, ExitCode: &code, Output: "pre.log",
			Checks: []*Check{{Kind: "tcp", Target: "fs2:445", Passed: true, At: r.StartedAt}}},
		{Name: "confirm", Action: "prompt", Wave: 1, After: []string{"pre"}, Status: Failed, Error: "Prompt declined",
			Answer: &Answer{Question: "Go on?", Answer: "no", By: "root", At: r.StartedAt, Via: "terminal"}},
	}
	r.Drill = &DrillRun{Folder: "/d", Clones: []*Clone{}, Inventory: []string{"file /d"}, TornDown: true}
	r.Finish(r.StartedAt.Add(2*time.Second), Failed)
	if err := s.Save(r); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListOutlines()
	if err != nil || len(got) != 1 {
		t.Fatalf("ListOutlines = %d records, %v", len(got), err)
	}
	want := *r
	want.Steps = nil
	for _, st := range r.Steps {
		o := *st
		o.After, o.Output, o.Checks, o.Answer = nil, "", nil, nil
		want.Steps = append(want.Steps, &o)
	}
	if d := cmp.Diff(&want, got[0]); d != "" {
		t.Errorf("outline (-want +got):\n%s", d)
	}
}
