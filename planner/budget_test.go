package planner

import (
	"testing"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/state"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

func TestCriticalPath(t *testing.T) {
	step := func(name string, wave int, timeout time.Duration, after ...string) *plan.Step {
		return &plan.Step{Name: name, Wave: wave, Timeout: timeout, After: after, Action: plan.StepRun}
	}
	wait := &plan.Step{Name: "settle", Wave: 1, After: []string{"a"}, Action: plan.StepWait,
		Invoke: plan.Invoke{Args: cty.ObjectVal(map[string]cty.Value{"duration": cty.StringVal("30s")})}}
	for _, tc := range []struct {
		name      string
		steps     []*plan.Step
		measured  map[string]time.Duration
		chain     []string
		total     time.Duration
		unknown   []string
		retriesOf string
	}{
		{"one", []*plan.Step{step("a", 0, time.Minute)}, nil, []string{"a (1m0s)"}, time.Minute, nil, ""},
		{"longest branch", []*plan.Step{step("a", 0, time.Minute), step("b", 0, 3*time.Minute), step("c", 1, time.Minute, "a", "b")},
			nil, []string{"b (3m0s)", "c (1m0s)"}, 4 * time.Minute, nil, ""},
		{"measured and unknown", []*plan.Step{step("a", 0, 0), step("b", 1, 0, "a")},
			map[string]time.Duration{"a": 2 * time.Second}, []string{"a (2s)", "b (0s)"}, 2 * time.Second, []string{"b"}, ""},
		{"wait counts its duration", []*plan.Step{step("a", 0, time.Second), wait}, nil, []string{"a (1s)", "settle (30s)"}, 31 * time.Second, nil, ""},
		{"retries multiply the timeout", []*plan.Step{step("a", 0, time.Minute)}, nil, []string{"a (3m0s)"}, 3 * time.Minute, nil, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.steps {
				if s.Name == tc.retriesOf {
					s.Retries = 2
				}
			}
			chain, total, unknown := criticalPath(&plan.Runbook{Steps: tc.steps}, tc.measured)
			if d := cmp.Diff(tc.chain, chain); d != "" {
				t.Errorf("chain (-want +got):\n%s", d)
			}
			if total != tc.total {
				t.Errorf("total %s, want %s", total, tc.total)
			}
			if d := cmp.Diff(tc.unknown, unknown); d != "" {
				t.Errorf("unknown (-want +got):\n%s", d)
			}
		})
	}
}

func TestDataLossWindow(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	ts := func(d time.Duration) cty.Value { return cty.StringVal(now.Add(-d).Format(time.RFC3339Nano)) }
	set := func(pending cty.Value, oldest, last cty.Value) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"pending": pending, "oldest_pending": oldest, "last_mirror": last})
	}
	null := cty.NullVal(cty.String)
	for _, tc := range []struct {
		name   string
		typ    string
		attrs  cty.Value
		window time.Duration
		known  bool
	}{
		{"in sync", "replication_set", set(cty.Zero, null, ts(time.Hour)), 0, true},
		{"oldest change", "replication_set", set(cty.NumberIntVal(2), ts(5*time.Minute), ts(time.Hour)), 5 * time.Minute, true},
		{"a change cannot predate the last mirror", "replication_set", set(cty.NumberIntVal(1), ts(2*time.Hour), ts(time.Hour)), time.Hour, true},
		{"deletions only", "replication_set", set(cty.NumberIntVal(1), null, ts(10*time.Minute)), 10 * time.Minute, true},
		{"refresh failed", "replication_set", set(cty.NullVal(cty.Number), null, ts(time.Hour)), 0, false},
		{"drive copy", "drive_copy", cty.ObjectVal(map[string]cty.Value{"last_copy_at": ts(3 * time.Hour)}), 3 * time.Hour, true},
		{"never copied", "drive_copy", cty.ObjectVal(map[string]cty.Value{"last_copy_at": null}), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := instanceOf(t, tc.typ, tc.attrs)
			w, known := dataLossWindow(inst, now)
			if w != tc.window || known != tc.known {
				t.Errorf("window %s %v, want %s %v", w, known, tc.window, tc.known)
			}
		})
	}
}

func instanceOf(t *testing.T, typ string, attrs cty.Value) *state.Instance {
	t.Helper()
	addr, err := addrs.ParseInstance(typ + ".x")
	if err != nil {
		t.Fatal(err)
	}
	return &state.Instance{Addr: addr, Attrs: attrs}
}
