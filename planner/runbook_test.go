package planner

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/google/go-cmp/cmp"
)

// TestRepeatedSteps plans runbooks whose steps set count or for_each: each
// instance is a step of its own, named by its key, in its step's wave;
// after names every instance of a step or one; a run's finished instances
// are skipped one by one.
func TestRepeatedSteps(t *testing.T) {
	const repeat = `
host "h" {}
variable "n" {
  type    = number
  default = 3
}
runbook "r" {
  step "shares" {
    for_each = toset(["b", "a"])
    host     = host.h
    run      = ["test", "-d", "/srv/${each.key}"]
  }
  step "services" {
    count = var.n
    host  = host.h
    after = [step.shares]
    run   = ["start", "svc${count.index}"]
  }
  step "last" {
    after = [step.services[2]]
    check = step.services[2].status == "succeeded"
  }
  step "none" {
    count = 0
    wait  = "1s"
  }
  step "after_none" {
    after = [step.none, step.shares["a"]]
    wait  = "2s"
  }
}
`
	// step is what the test compares of a planned step.
	type step struct {
		Name, Summary, Skip string
		Wave                int
		After               []string
	}
	all := []step{
		{Name: `shares["a"]`, Summary: "run test -d /srv/a on h"},
		{Name: `shares["b"]`, Summary: "run test -d /srv/b on h"},
		{Name: `after_none`, Summary: "wait 2s", Wave: 1, After: []string{`shares["a"]`}},
		{Name: `services[0]`, Summary: "run start svc0 on h", Wave: 1, After: []string{`shares["a"]`, `shares["b"]`}},
		{Name: `services[1]`, Summary: "run start svc1 on h", Wave: 1, After: []string{`shares["a"]`, `shares["b"]`}},
		{Name: `services[2]`, Summary: "run start svc2 on h", Wave: 1, After: []string{`shares["a"]`, `shares["b"]`}},
		{Name: `last`, Summary: "check, as it stands when step.services[2] has run", Wave: 2, After: []string{`services[2]`}},
	}
	resumed := append([]step(nil), all...)
	resumed[0].Skip = "finished in run run1"
	resumed[3].Skip = "finished in run run1"
	resumed[6].Summary = "check step.services[2].status == \"succeeded\" (does not hold now)"
	for _, tc := range []struct {
		name  string
		src   string
		prior map[string]state.StepStatus
		want  []step
		err   string
	}{
		{name: "instances in waves", src: repeat, want: all},
		{name: "finished instances skipped", src: repeat, want: resumed, prior: map[string]state.StepStatus{
			`shares["a"]`: state.StepSucceeded, `services[0]`: state.StepSucceeded, `services[1]`: state.StepStarted, `services[2]`: state.StepFailed}},
		{name: "an instance named twice", src: `
runbook "r" {
  step "a" {
    count = 2
    wait  = "1s"
  }
  step "b" {
    after = [step.a[1], step.a]
    wait  = "2s"
  }
}`, want: []step{{Name: "a[0]", Summary: "wait 1s"}, {Name: "a[1]", Summary: "wait 1s"},
			{Name: "b", Summary: "wait 2s", Wave: 1, After: []string{"a[0]", "a[1]"}}}},
		{name: "after a missing instance", src: `
runbook "r" {
  step "a" {
    count = 2
    wait  = "1s"
  }
  step "b" {
    after = [step.a[2]]
    wait  = "1s"
  }
}`, err: `In step "b" of runbook "r": after names step.a[2], which is not an instance of step "a" (count = 2). Name one of its instances, or step.a for all of them.`},
		{name: "refers to an instance it does not run after", src: `
runbook "r" {
  step "a" {
    count = 2
    wait  = "1s"
  }
  step "b" {
    after = [step.a[0]]
    check = step.a[1].status == "succeeded"
  }
}`, err: `Step "b" of runbook "r" refers to step.a[1], whose outcome is known only once it has run. Add step.a[1] to its after list (directly or through the steps it runs after).`},
		{name: "each instance after the one before", src: `
runbook "r" {
  step "chain" {
    count = 3
    after = count.index > 0 ? [step.chain[count.index - 1]] : []
    wait  = "1s"
  }
  step "keyed" {
    for_each = toset(["a", "b"])
    after    = each.key == "b" ? [step.keyed["a"], step.chain[0]] : []
    wait     = "2s"
  }
}`, want: []step{
			{Name: "chain[0]", Summary: "wait 1s"},
			{Name: `keyed["a"]`, Summary: "wait 2s"},
			{Name: "chain[1]", Summary: "wait 1s", Wave: 1, After: []string{"chain[0]"}},
			{Name: `keyed["b"]`, Summary: "wait 2s", Wave: 1, After: []string{"chain[0]", `keyed["a"]`}},
			{Name: "chain[2]", Summary: "wait 1s", Wave: 2, After: []string{"chain[1]"}}}},
		{name: "each instance after all before it", src: `
runbook "r" {
  step "x" {
    count = 3
    after = [for i in range(count.index) : step.x[i]]
    wait  = "1s"
  }
}`, want: []step{
			{Name: "x[0]", Summary: "wait 1s"},
			{Name: "x[1]", Summary: "wait 1s", Wave: 1, After: []string{"x[0]"}},
			{Name: "x[2]", Summary: "wait 1s", Wave: 2, After: []string{"x[0]", "x[1]"}}}},
		{name: "waves of instances, not of steps", src: `
runbook "r" {
  step "left" {
    count = 2
    after = count.index == 1 ? [step.right[0]] : []
    wait  = "1s"
  }
  step "right" {
    count = 2
    after = [step.left[0]]
    wait  = "2s"
  }
  step "first" {
    after = [step.left[0]]
    wait  = "3s"
  }
}`, want: []step{
			{Name: "left[0]", Summary: "wait 1s"},
			{Name: "first", Summary: "wait 3s", Wave: 1, After: []string{"left[0]"}},
			{Name: "right[0]", Summary: "wait 2s", Wave: 1, After: []string{"left[0]"}},
			{Name: "right[1]", Summary: "wait 2s", Wave: 1, After: []string{"left[0]"}},
			{Name: "left[1]", Summary: "wait 1s", Wave: 2, After: []string{"right[0]"}}}},
		{name: "an instance after itself", src: `
runbook "r" {
  step "fan" {
    count = 3
    after = [step.fan[0]]
    wait  = "1s"
  }
}`, err: `In runbook "r", step.fan[0] waits for itself through after, so it can never start. An instance may wait for other instances of its step, never for itself: to run each after the one before, write after = count.index > 0 ? [step.fan[count.index - 1]] : [].`},
		{name: "a keyed instance after itself", src: `
runbook "r" {
  step "k" {
    for_each = toset(["a", "b"])
    after    = [step.k[each.key]]
    wait     = "1s"
  }
}`, err: `In runbook "r", step.k["b"] waits for itself through after, so it can never start. An instance may wait for other instances of its step, never for itself.`},
		{name: "instances in a loop", src: `
runbook "r" {
  step "a" {
    count = 2
    after = [step.b[count.index]]
    wait  = "1s"
  }
  step "b" {
    count = 2
    after = count.index == 1 ? [step.a[1]] : []
    wait  = "1s"
  }
}`, err: `In runbook "r", step.a[1], step.b[1] wait for each other through after, so none of them can start. Remove one of the after entries between them.`},
		{name: "after gives a string", src: `
runbook "r" {
  step "a" {
    count = 2
    after = count.index > 0 ? [step.a[0]] : ["a"]
    wait  = "1s"
  }
}`, err: `In step "a[0]" of runbook "r": after gives "a", not steps. It lists steps, like step.prepare, or instances of a repeated step, like step.check[count.index - 1].`},
		{name: "after past the last instance", src: `
runbook "r" {
  step "a" {
    count = 2
    after = [step.a[count.index + 1]]
    wait  = "1s"
  }
}`, err: `The given key does not identify an element in this collection value: the given index is greater than or equal to the length of the collection.`},
		{name: "refers to a sibling picked for each instance", src: `
runbook "r" {
  step "x" {
    count = 2
    after = count.index > 0 ? [step.x[count.index - 1]] : []
    check = count.index == 0 || step.x[max(count.index - 1, 0)].status == "succeeded"
  }
}`, err: `Step "x[1]" of runbook "r" refers to step.x, the instances of its own step, whose outcomes are known only once they have run; an instance can wait for others of its step, but not be checked against one picked by an index computed for each instance. Order them with after instead (after = count.index > 0 ? [step.x[count.index - 1]] : []): an instance after one that failed does not run.`},
		{name: "for_each of a list", src: `
runbook "r" {
  step "a" {
    for_each = ["x"]
    wait     = "1s"
  }
}`, err: `The given "for_each" argument value is unsuitable: for_each takes a map, an object or a set of strings, and this is a tuple. To repeat over a list, convert it with toset() or build a map with a for expression.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, diags := lang.LoadDir(dir)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			vars, diags := lang.FinalizeVariables(cfg, nil)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			prior := state.New()
			if tc.prior != nil {
				rb := &state.Runbook{Name: "r", RunID: "run1", Kind: "run", Steps: map[string]*state.RunbookStep{}}
				for id, st := range tc.prior {
					rb.Steps[id] = &state.RunbookStep{Status: st}
				}
				prior.Runbooks = map[string]*state.Runbook{"r": rb}
			}
			reg := providers.NewRegistry()
			defer reg.Close()
			p, diags := Plan(context.Background(), cfg, prior, Options{Providers: reg, Variables: vars, PlanTime: time.Now(),
				Runbook: &RunbookRequest{Name: "r", Kind: "run"}})
			if tc.err != "" {
				if !diags.HasErrors() {
					t.Fatalf("planned, want the error %q", tc.err)
				}
				if d := cmp.Diff(tc.err, diags[len(diags)-1].Detail); d != "" {
					t.Fatalf("error detail (-want +got):\n%s", d)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			var got []step
			for _, s := range p.Runbook.Steps {
				got = append(got, step{Name: s.Name, Summary: s.Summary, Skip: s.Skip, Wave: s.Wave, After: s.After})
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("steps (-want +got):\n%s", d)
			}
		})
	}
}

// TestInstancesShareAfterList plans a step of count = 3 after every
// instance of another: its instances share one after list, which the run's
// record and report then encode once, not once an instance.
func TestInstancesShareAfterList(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(benchRunbook("count", 2, 3)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	vars, diags := lang.FinalizeVariables(cfg, nil)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	reg := providers.NewRegistry()
	defer reg.Close()
	p, diags := Plan(context.Background(), cfg, nil, Options{Providers: reg, Variables: vars, PlanTime: time.Now(),
		Runbook: &RunbookRequest{Name: "bench", Kind: "run"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	first := p.Runbook.Steps[3].After
	if d := cmp.Diff([]string{"w0[0]", "w0[1]", "w0[2]"}, first); d != "" {
		t.Fatalf("%s's after list (-want +got):\n%s", p.Runbook.Steps[3].Name, d)
	}
	for _, s := range p.Runbook.Steps[4:] {
		if &s.After[0] != &first[0] {
			t.Errorf("%s has an after list of its own", s.Name)
		}
	}
}
