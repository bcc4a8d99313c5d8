package state

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

func TestRunbooksRoundTrip(t *testing.T) {
	undo := &Release{Summary: "import the undo file /u.reg on fs2", Provider: "registry", Action: "registry_import",
		Args: cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal("/u.reg"), "keys": cty.NumberIntVal(3)})}
	entries := []RunbookEntry{
		{Name: "failover", RunID: "r1", Kind: "failover", Step: "pre", Status: StepStarted},
		{Name: "failover", RunID: "r1", Kind: "failover", Step: "pre", Status: StepSucceeded},
		{Name: "failover", RunID: "r1", Kind: "failover", Step: "registry", Status: StepSucceeded, Release: undo},
		{Name: "failover", RunID: "r1", Kind: "failover", Done: true},
		{Name: "drill", RunID: "r0", Step: "x", Status: StepStarted},
		{Name: "drill", Removed: true},
	}
	s := New()
	for _, e := range entries {
		b, err := MarshalEntry(JournalEntry{Runbook: &e})
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalEntry(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if err := s.Replay(got); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]*Runbook{"failover": {Name: "failover", RunID: "r1", Kind: "failover", Done: true, Steps: map[string]*RunbookStep{
		"pre": {Status: StepSucceeded}, "registry": {Status: StepSucceeded, Release: undo}}}}
	opts := cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) })
	if d := cmp.Diff(want, s.Runbooks, opts); d != "" {
		t.Errorf("replayed runbooks (-want +got):\n%s", d)
	}
	doc, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(doc)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if d := cmp.Diff(want, back.Runbooks, opts); d != "" {
		t.Errorf("runbooks through the document (-want +got):\n%s", d)
	}
	again, _ := Marshal(back)
	if string(again) != string(doc) {
		t.Errorf("the document is not canonical:\n%s\n%s", doc, again)
	}
	if d := cmp.Diff(want, s.DeepCopy().Runbooks, opts); d != "" {
		t.Errorf("DeepCopy (-want +got):\n%s", d)
	}
}

// TestRunbookEntryMatchesMarshal checks the hand-written journal line of a
// runbook entry against encoding/json's of its document.
func TestRunbookEntryMatchesMarshal(t *testing.T) {
	undo := &Release{Summary: "import the undo file /u.reg on fs2", Provider: "registry", Action: "registry_import",
		Args: cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal("/u.reg"), "keys": cty.NumberIntVal(3)})}
	for _, tc := range []struct {
		name  string
		entry RunbookEntry
	}{
		{"started", RunbookEntry{Name: "bench", RunID: "20261207T190619Z-1d8b40", Kind: "run", Step: "w1[3]", Status: StepStarted}},
		{"released", RunbookEntry{Name: "failover", RunID: "r1", Kind: "failover", Step: "registry", Status: StepSucceeded, Release: undo}},
		{"done", RunbookEntry{Name: "failover", RunID: "r1", Kind: "failover", Done: true}},
		{"removed", RunbookEntry{Name: "drill", Removed: true}},
		{"quoted", RunbookEntry{Name: "a\"b\\c\n", Step: "\t"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel, err := encodeRelease(tc.entry.Release)
			if err != nil {
				t.Fatal(err)
			}
			e := tc.entry
			doc, err := json.Marshal(docRunbookEntry{Name: e.Name, RunID: e.RunID, Kind: e.Kind, Step: e.Step, Status: e.Status, Release: rel, Done: e.Done, Removed: e.Removed})
			if err != nil {
				t.Fatal(err)
			}
			got, err := MarshalEntry(JournalEntry{Runbook: &e})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(`{"runbook":`+string(doc)+`}`, string(got)); d != "" {
				t.Errorf("journal line differs from encoding/json's (-json +got):\n%s", d)
			}
		})
	}
}
