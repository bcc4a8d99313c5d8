package lang

import (
	"testing"

	"github.com/drover-dr/drover/addrs"
)

// TestParseStepID reads step instances as users name them (--approve,
// runbook answer) and spells them back as StepID does.
func TestParseStepID(t *testing.T) {
	for _, tc := range []struct {
		in, name, id string
		key          addrs.Key
		err          bool
	}{
		{in: "prepare", name: "prepare", id: "prepare"},
		{in: "step.prepare", name: "prepare", id: "prepare"},
		{in: "check[3]", name: "check", key: addrs.IntK(3), id: "check[3]"},
		{in: `step.check["a"]`, name: "check", key: addrs.StrK("a"), id: `check["a"]`},
		{in: `check[ "a b" ]`, name: "check", key: addrs.StrK("a b"), id: `check["a b"]`},
		{in: "check[-1]", err: true},
		{in: "step.a.b", err: true},
		{in: "check[", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			name, key, err := ParseStepID(tc.in)
			if tc.err {
				if err == nil {
					t.Fatalf("read as %s%s, want an error", name, key)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if name != tc.name || key != tc.key {
				t.Fatalf("read as %q %v, want %q %v", name, key, tc.name, tc.key)
			}
			if id := StepID(name, key); id != tc.id {
				t.Fatalf("StepID %q, want %q", id, tc.id)
			}
		})
	}
}
