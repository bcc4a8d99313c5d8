package record

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzUnmarshal reads arbitrary bytes as a run record, as `drover report`
// does with the files of .drover/runs: a document it accepts writes back
// to one that reads as the same record.
func FuzzUnmarshal(f *testing.F) {
	r := New("failover", Failover, Config{Dir: "/srv/dr", Commit: "abc"}, Budget{})
	code := 3
	r.Steps = []*Step{{Name: "pre", Action: "run", Status: Failed, ExitCode: &code, Error: "exit 3"}}
	b, err := Marshal(r)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"format_version": 1, "run_id": "x", "rto": "1m30s", "steps": []}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Unmarshal(b)
		if err != nil {
			return
		}
		again, err := Marshal(r)
		if err != nil {
			t.Fatalf("a record read from %q does not write: %v", b, err)
		}
		back, err := Unmarshal(again)
		if err != nil {
			t.Fatalf("a record written does not read back: %v\n%s", err, again)
		}
		if d := cmp.Diff(r, back); d != "" {
			t.Fatalf("the record changed through Marshal and Unmarshal:\n%s", d)
		}
	})
}

// FuzzAppendStep encodes arbitrary steps by hand and by encoding/json,
// which must agree byte for byte.
func FuzzAppendStep(f *testing.F) {
	f.Add("w0[1]", "run true on h", "h", "pre", "Command failed: <&>\n", int64(1765134404547000000), 2)
	f.Add("", "", "", "", "\xff\u2028", int64(0), 0)
	f.Fuzz(func(t *testing.T, name, summary, host, after, errText string, nanos int64, attempts int) {
		s := &Step{Name: name, Action: "run", Summary: summary, Host: host, After: []string{after, name}, Status: Running,
			StartedAt: time.Unix(0, nanos).UTC(), Attempts: attempts, Error: errText}
		want, werr := json.MarshalIndent(s, "    ", "  ")
		got, gerr := encodeStep(s)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("error %v, encoding/json's %v", gerr, werr)
		}
		if string(got) != string(want) {
			t.Errorf("the encoder differs from MarshalIndent (-MarshalIndent +Encoder):\n%s", cmp.Diff(string(want), string(got)))
		}
	})
}
