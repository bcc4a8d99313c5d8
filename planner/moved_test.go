package planner

import (
	"strings"
	"testing"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/state"
	"github.com/zclconf/go-cty/cty"
)

func TestApplyMoved(t *testing.T) {
	res := func(name string) addrs.Resource {
		return addrs.Resource{Mode: addrs.Managed, Type: "value", Name: name}
	}
	inst := func(name string) addrs.Instance { return res(name).Instance(addrs.Key{}) }
	build := func(names ...string) *state.State {
		s := state.New()
		for _, n := range names {
			s.Set(&state.Instance{Addr: inst(n), Attrs: cty.EmptyObjectVal})
		}
		return s
	}
	moved := func(from, to string) *lang.Moved { return &lang.Moved{From: inst(from), To: inst(to)} }
	for _, tc := range []struct {
		name     string
		state    *state.State
		blocks   []*lang.Moved
		want     string
		origin   string
		warnings int
	}{
		{"a chain written backwards", build("a"), []*lang.Moved{moved("b", "c"), moved("a", "b")}, "value.c", "value.a", 0},
		{"the new address is taken", build("a", "b"), []*lang.Moved{moved("a", "b")}, "value.a value.b", "", 1},
		{"nothing to move", build("x"), []*lang.Moved{moved("a", "b")}, "value.x", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applied, diags := applyMoved(&lang.Config{Moved: tc.blocks}, tc.state, nil)
			var got []string
			for _, a := range tc.state.SortedAddrs() {
				got = append(got, a.String())
			}
			if strings.Join(got, " ") != tc.want || len(diags) != tc.warnings {
				t.Fatalf("state %v, diagnostics %v", got, diags)
			}
			changes := []*plan.Change{{Addr: inst("c")}}
			markMoved(changes, applied)
			origin := ""
			if changes[0].MovedFrom != nil {
				origin = changes[0].MovedFrom.String()
			}
			if origin != tc.origin {
				t.Fatalf("value.c moved from %q, want %q", origin, tc.origin)
			}
		})
	}
}
