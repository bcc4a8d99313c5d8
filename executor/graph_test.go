package executor

import (
	"slices"
	"testing"

	"github.com/drover-dr/drover/planner/plan"
	"github.com/google/go-cmp/cmp"
)

// TestRunbookGraph checks that each step of a run waits for exactly the
// steps of its after list that run, and that an after list several steps
// share is one join: N+M edges, not N×M.
func TestRunbookGraph(t *testing.T) {
	step := func(name string, after ...string) *plan.Step { return &plan.Step{Name: name, After: after} }
	skipped := func(name string, after ...string) *plan.Step {
		s := step(name, after...)
		s.Skip = "it finished in an earlier run"
		return s
	}
	for _, tc := range []struct {
		name  string
		steps []*plan.Step
		// want is what each step waits for, directly or through a join.
		want  map[string][]string
		edges int
	}{
		{"waves", []*plan.Step{
			step("a0"), step("a1"), step("a2"),
			step("b0", "a0", "a1", "a2"), step("b1", "a0", "a1", "a2"), step("b2", "a0", "a1", "a2"),
			step("c0", "b0", "b1", "b2"), step("c1", "b0", "b1", "b2"), step("c2", "b0", "b1", "b2"),
		}, map[string][]string{
			"a0": nil, "a1": nil, "a2": nil,
			"b0": {"a0", "a1", "a2"}, "b1": {"a0", "a1", "a2"}, "b2": {"a0", "a1", "a2"},
			"c0": {"b0", "b1", "b2"}, "c1": {"b0", "b1", "b2"}, "c2": {"b0", "b1", "b2"},
		}, 12},
		{"lists not shared", []*plan.Step{
			step("a"), step("b"), step("c", "a", "b"), step("d", "a"), step("e", "a"),
		}, map[string][]string{"a": nil, "b": nil, "c": {"a", "b"}, "d": {"a"}, "e": {"a"}}, 4},
		{"skipped steps", []*plan.Step{
			skipped("a"), step("b"), step("c"),
			step("d", "a", "b", "c"), step("e", "a", "b", "c"), step("f", "a", "b"),
		}, map[string][]string{"b": nil, "c": nil, "d": {"b", "c"}, "e": {"b", "c"}, "f": {"b"}}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := runbookGraph(tc.steps)
			// waitsFor is what n depends on, seeing through joins.
			var waitsFor func(n runNode) []string
			waitsFor = func(n runNode) []string {
				var out []string
				for _, d := range g.DependsOn(n) {
					if d.join != 0 {
						out = append(out, waitsFor(d)...)
					} else {
						out = append(out, d.step)
					}
				}
				slices.Sort(out)
				return out
			}
			got := map[string][]string{}
			edges := 0
			for _, s := range tc.steps {
				if n := (runNode{step: s.Name}); g.Has(n) {
					got[s.Name] = waitsFor(n)
				}
			}
			for j := 1; g.Has(runNode{join: j}); j++ {
				edges += len(g.DependsOn(runNode{join: j}))
			}
			for _, s := range tc.steps {
				edges += len(g.DependsOn(runNode{step: s.Name}))
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("steps wait for (-want +got):\n%s", d)
			}
			if edges != tc.edges {
				t.Errorf("%d edges, want %d", edges, tc.edges)
			}
		})
	}
}
