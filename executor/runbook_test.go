package executor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/record"
	"github.com/drover-dr/drover/state"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// runStep is a run step of the plan: argv on a host rooted at root.
func runStep(root, name string, wave int, onFailure string, argv []string, after ...string) *plan.Step {
	var l []cty.Value
	for _, a := range argv {
		l = append(l, cty.StringVal(a))
	}
	return &plan.Step{Name: name, Wave: wave, After: after, Action: plan.StepRun, Host: "fs2", Summary: "run " + strings.Join(argv, " "),
		OnFailure: onFailure, Invoke: plan.Invoke{Provider: "core", Action: "run", Args: cty.ObjectVal(map[string]cty.Value{
			"host": host.Config{Name: "fs2", Root: root}.Value(), "argv": cty.ListVal(l),
			"env": cty.NullVal(cty.Map(cty.String)), "dir": cty.NullVal(cty.String)})}}
}

func TestRunRunbook(t *testing.T) {
	mark := func(root, name string) []string {
		return []string{"/bin/sh", "-c", "echo " + name + "; touch " + filepath.Join(root, name)}
	}
	for _, tc := range []struct {
		name     string
		steps    func(root string) []*plan.Step
		status   record.Status
		want     map[string]record.Status
		inForce  bool
		stateRan map[string]state.StepStatus
	}{
		{"waves in parallel", func(root string) []*plan.Step {
			return []*plan.Step{
				runStep(root, "a", 0, "abort", mark(root, "a")), runStep(root, "b", 0, "abort", mark(root, "b")),
				runStep(root, "c", 1, "abort", mark(root, "c"), "a", "b"),
			}
		}, record.Succeeded, map[string]record.Status{"a": record.Succeeded, "b": record.Succeeded, "c": record.Succeeded}, true,
			map[string]state.StepStatus{"a": state.StepSucceeded, "b": state.StepSucceeded, "c": state.StepSucceeded}},
		{"abort stops the run", func(root string) []*plan.Step {
			return []*plan.Step{
				runStep(root, "bad", 0, "abort", []string{"false"}),
				runStep(root, "next", 1, "abort", mark(root, "next"), "bad"),
			}
		}, record.Failed, map[string]record.Status{"bad": record.Failed, "next": record.Cancelled}, false,
			map[string]state.StepStatus{"bad": state.StepFailed}},
		{"continue goes on", func(root string) []*plan.Step {
			return []*plan.Step{
				runStep(root, "bad", 0, "continue", []string{"false"}),
				runStep(root, "next", 1, "abort", mark(root, "next"), "bad"),
			}
		}, record.Succeeded, map[string]record.Status{"bad": record.Failed, "next": record.Succeeded}, true,
			map[string]state.StepStatus{"bad": state.StepFailed, "next": state.StepSucceeded}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			store := record.NewStore(filepath.Join(t.TempDir(), "runs"))
			rec := record.New("failover", record.Failover, record.Config{}, record.Budget{})
			p := &plan.Plan{Mode: plan.RunbookMode, Runbook: &plan.Runbook{Name: "failover", Kind: "failover", Steps: tc.steps(root)}}
			reg := registry()
			defer reg.Close()
			final, _ := RunRunbook(context.Background(), p, state.New(), RunbookOptions{Providers: reg, Parallelism: 2, Record: rec, Records: store})
			saved, err := store.Load(rec.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if saved.Status != tc.status {
				t.Errorf("run status %s, want %s", saved.Status, tc.status)
			}
			got := map[string]record.Status{}
			for _, s := range saved.Steps {
				got[s.Name] = s.Status
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("step statuses in the saved record (-want +got):\n%s", d)
			}
			rb := final.Runbooks["failover"]
			if rb == nil || rb.Done != tc.inForce || rb.RunID != rec.RunID {
				t.Fatalf("runbook in the state: %+v", rb)
			}
			ran := map[string]state.StepStatus{}
			for n, s := range rb.Steps {
				ran[n] = s.Status
			}
			if d := cmp.Diff(tc.stateRan, ran); d != "" {
				t.Errorf("step statuses in the state (-want +got):\n%s", d)
			}
			for name, st := range tc.want {
				if _, err := os.Stat(filepath.Join(root, name)); (err == nil) != (st == record.Succeeded && name != "bad") {
					t.Errorf("step %s left its mark: %v (status %s)", name, err == nil, st)
				}
			}
			if tc.status == record.Succeeded && saved.Step(tc.steps(root)[0].Name).Output == "" && tc.name == "waves in parallel" {
				t.Error("the output log is not in the record")
			}
		})
	}
}

// finishHooks keeps what RunFinished was given, encoded as it then stood.
type finishHooks struct {
	calls   int
	encoded []byte
}

func (h *finishHooks) StepStarted(*plan.Step, int)                 {}
func (h *finishHooks) StepProgress(*plan.Step, providers.Progress) {}
func (h *finishHooks) StepFinished(*plan.Step, *record.Step)       {}
func (h *finishHooks) Released(*plan.Release, hcl.Diagnostics)     {}
func (h *finishHooks) RunFinished(rec *record.Record) {
	h.calls++
	h.encoded, _ = record.Marshal(rec)
}

// TestRunbookRunFinished: the hook hears once that the record is final,
// before it is saved, and nothing changes it after (the CLI renders the
// report from it while it is saved).
func TestRunbookRunFinished(t *testing.T) {
	root := t.TempDir()
	store := record.NewStore(filepath.Join(t.TempDir(), "runs"))
	rec := record.New("failover", record.Failover, record.Config{}, record.Budget{})
	p := &plan.Plan{Mode: plan.RunbookMode, Runbook: &plan.Runbook{Name: "failover", Kind: "failover", Steps: []*plan.Step{
		runStep(root, "a", 0, "abort", []string{"true"}), runStep(root, "b", 1, "continue", []string{"false"}, "a"),
	}}}
	reg := registry()
	defer reg.Close()
	hooks := &finishHooks{}
	RunRunbook(context.Background(), p, state.New(), RunbookOptions{Providers: reg, Parallelism: 2, Hooks: hooks, Record: rec, Records: store})
	if hooks.calls != 1 {
		t.Fatalf("RunFinished called %d times, want once", hooks.calls)
	}
	after, err := record.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(after), string(hooks.encoded)); d != "" {
		t.Errorf("the record changed after RunFinished (-after +at RunFinished):\n%s", d)
	}
	if rec.Status != record.Succeeded || rec.FinishedAt.IsZero() {
		t.Errorf("record at RunFinished: status %s, finished at %v; want succeeded, finished", rec.Status, rec.FinishedAt)
	}
}

// TestRunbookRecordWhileRunning reads the record from disk while a step
// runs: each save must show every step as it then stands, also after the
// record's encoder kept the steps' earlier versions (a step changed in
// place would be saved as it was).
func TestRunbookRecordWhileRunning(t *testing.T) {
	root := t.TempDir()
	release := filepath.Join(root, "release")
	wait := []string{"/bin/sh", "-c", "touch " + filepath.Join(root, "started") + "; i=0; while [ ! -e " + release + " ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done"}
	steps := []*plan.Step{
		runStep(root, "quick", 0, "abort", []string{"true"}),
		runStep(root, "slow", 1, "abort", wait, "quick"),
		runStep(root, "last", 2, "abort", []string{"true"}, "slow"),
	}
	store := record.NewStore(filepath.Join(t.TempDir(), "runs"))
	rec := record.New("failover", record.Failover, record.Config{}, record.Budget{})
	p := &plan.Plan{Mode: plan.RunbookMode, Runbook: &plan.Runbook{Name: "failover", Kind: "failover", Steps: steps}}
	reg := registry()
	defer reg.Close()
	done := make(chan *record.Record, 1)
	go func() {
		RunRunbook(context.Background(), p, state.New(), RunbookOptions{Providers: reg, Parallelism: 2, Record: rec, Records: store})
		saved, _ := store.Load(rec.RunID)
		done <- saved
	}()
	want := map[string]record.Status{"quick": record.Succeeded, "slow": record.Running, "last": record.Pending}
	var got map[string]record.Status
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if saved, err := store.Load(rec.RunID); err == nil {
			got = map[string]record.Status{}
			for _, s := range saved.Steps {
				got[s.Name] = s.Status
			}
			if cmp.Equal(want, got) {
				break
			}
		}
	}
	os.WriteFile(release, nil, 0o600)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("record saved while step slow runs (-want +got):\n%s", d)
	}
	saved := <-done
	if saved == nil {
		t.Fatal("no record saved at the end of the run")
	}
	for _, s := range saved.Steps {
		if s.Status != record.Succeeded {
			t.Errorf("step %s is %s in the final record, want succeeded", s.Name, s.Status)
		}
	}
}

// TestSaveInterval: the record of a small run is saved every saveEvery;
// a larger one waits in proportion to its size, or to how long its last
// write took when that was slower, so that saving the record while the
// run goes on costs a bounded share of the run however many steps it
// lists.
func TestSaveInterval(t *testing.T) {
	for _, tc := range []struct {
		name string
		took time.Duration
		size int
		want time.Duration
	}{
		{"quick write", time.Millisecond, 4_000, saveEvery},
		{"at the pace", saveEvery / savePace, 4_000, saveEvery},
		{"slow write", 15 * time.Millisecond, 4_000, 300 * time.Millisecond},
		// The benchmark's 1,000 steps, each after the 100 of the wave
		// before: a quick write, of a large record.
		{"large record", 2 * time.Millisecond, 1_900_000, 950 * time.Millisecond},
		{"large and slow", 100 * time.Millisecond, 1_900_000, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := saveInterval(tc.took, tc.size); got != tc.want {
				t.Errorf("saveInterval(%s, %d) = %s, want %s", tc.took, tc.size, got, tc.want)
			}
		})
	}
}
