package state

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

func TestEntryRoundTrip(t *testing.T) {
	addr := diskRes.Instance(addrs.StrK("a"))
	tests := []struct {
		name  string
		entry JournalEntry
		want  string
	}{
		{"set", JournalEntry{Set: &Instance{Addr: addr, Provider: "disk", Status: Pending,
			Attrs: cty.ObjectVal(map[string]cty.Value{"id": cty.StringVal("x\ny")}), Private: []byte("p"),
			SensitivePaths: []cty.Path{cty.GetAttrPath("id")}, Dependencies: []addrs.Resource{hostRes}}},
			`{"set":{"address":"drive_copy.dpsr[\"a\"]","mode":"managed","type":"drive_copy","name":"dpsr","index":"a","provider":"disk","schema_version":0,"status":"pending","attributes":{"type":["object",{"id":"string"}],"value":{"id":"x\ny"}},"private":"cA==","sensitive_paths":[["id"]],"dependencies":["data.host.self"]}}`},
		{"remove", JournalEntry{Remove: &addr}, `{"remove":"drive_copy.dpsr[\"a\"]"}`},
		{"output", JournalEntry{Output: &NamedOutput{Name: "ip", Output: Output{Value: cty.StringVal("192.0.2.1"), Sensitive: true}}},
			`{"output":{"name":"ip","type":"string","value":"192.0.2.1","sensitive":true}}`},
		{"output deleted", JournalEntry{Output: &NamedOutput{Name: "ip", Deleted: true}}, `{"output":{"name":"ip","deleted":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := MarshalEntry(tt.entry)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
			if bytes.IndexByte(b, '\n') >= 0 {
				t.Errorf("entry spans lines: %s", b)
			}
			got, err := UnmarshalEntry(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.entry, got, cmpState); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestEntryRejects(t *testing.T) {
	addr := diskRes.Instance(addrs.Key{})
	tests := []struct {
		name  string
		entry JournalEntry
		line  string
		want  string
	}{
		{name: "empty entry", want: "exactly one of set, remove, output and runbook, not 0"},
		{name: "two fields", entry: JournalEntry{Remove: &addr, Output: &NamedOutput{Name: "x", Deleted: true}}, want: "not 2"},
		{name: "unknown value", entry: JournalEntry{Set: &Instance{Addr: addr, Status: Ready,
			Attrs: cty.ObjectVal(map[string]cty.Value{"id": cty.UnknownVal(cty.String)})}}, want: "drive_copy.dpsr: attribute id: value is not known"},
		{name: "garbage line", line: `{"set":`, want: "not a journal entry"},
		{name: "empty line", line: `{}`, want: "not 0"},
		{name: "bad remove", line: `{"remove":"x"}`, want: "invalid address"},
		{name: "nameless output", line: `{"output":{"deleted":true}}`, want: "no name"},
		{name: "bad set", line: `{"set":{"address":"a.b","mode":"managed","type":"a","name":"b","status":"done"}}`, want: `status "done"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.line != "" {
				_, err = UnmarshalEntry([]byte(tt.line))
			} else {
				_, err = MarshalEntry(tt.entry)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReplay(t *testing.T) {
	a := diskRes.Instance(addrs.IntK(0))
	b := diskRes.Instance(addrs.IntK(1))
	s := &State{Lineage: "l"}
	entries := []JournalEntry{
		{Set: &Instance{Addr: a, Status: Pending, Attrs: cty.EmptyObjectVal}},
		{Set: &Instance{Addr: b, Status: Pending, Attrs: cty.EmptyObjectVal}},
		{Set: &Instance{Addr: a, Status: Ready, Attrs: cty.EmptyObjectVal}},
		{Remove: &b},
		{Output: &NamedOutput{Name: "o", Output: Output{Value: cty.True}}},
		{Output: &NamedOutput{Name: "gone", Output: Output{Value: cty.True}}},
		{Output: &NamedOutput{Name: "gone", Deleted: true}},
	}
	for _, e := range entries {
		if err := s.Replay(e); err != nil {
			t.Fatal(err)
		}
	}
	want := &State{Lineage: "l",
		Instances: map[addrs.Instance]*Instance{a: {Addr: a, Status: Ready, Attrs: cty.EmptyObjectVal}},
		Outputs:   map[string]Output{"o": {Value: cty.True}}}
	if diff := cmp.Diff(want, s, cmpState); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err := s.Replay(JournalEntry{}); err == nil {
		t.Error("replayed an empty entry")
	}
}

func FuzzUnmarshalEntry(f *testing.F) {
	f.Add([]byte(`{"set":{"address":"a.b[1]","mode":"managed","type":"a","name":"b","index":1,"status":"ready","attributes":{"type":["map","number"],"value":{"k":1.5}}}}`))
	f.Add([]byte(`{"remove":"data.a.b[\"k\"]"}`))
	f.Add([]byte(`{"output":{"name":"o","type":["list","bool"],"value":[true],"sensitive":true}}`))
	f.Add([]byte(`{"output":{"name":"o","deleted":true}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := UnmarshalEntry(b)
		if err != nil {
			return
		}
		out, err := MarshalEntry(e)
		if err != nil {
			t.Fatalf("read an entry it cannot write: %v", err)
		}
		if bytes.IndexByte(out, '\n') >= 0 {
			t.Fatalf("entry spans lines: %s", out)
		}
		back, err := UnmarshalEntry(out)
		if err != nil {
			t.Fatalf("cannot read its own entry: %v\n%s", err, out)
		}
		again, err := MarshalEntry(back)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("not canonical (%v):\n%s\n%s", err, out, again)
		}
	})
}
