package plan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

func TestRunbookRoundTrip(t *testing.T) {
	holds := false
	host := cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("fs2"), "root": cty.StringVal("sim/fs2")})
	p := &Plan{Mode: RunbookMode, Lineage: "l", Serial: 3, ConfigHash: "h", Changes: []*Change{}, Runbook: &Runbook{
		Name: "failover", Kind: "failover", Continues: "20261207T100000Z-abcdef", RPO: 15 * time.Minute, RTO: 10 * time.Minute,
		Steps: []*Step{
			{Name: "pre", Action: StepRun, Host: "fs2", Summary: "run /opt/pre.sh on fs2", Timeout: 5 * time.Minute, Retries: 2,
				RetryDelay: 10 * time.Second, OnFailure: "continue", Skip: "finished in run x",
				Invoke: Invoke{Provider: "core", Action: "run", Args: cty.ObjectVal(map[string]cty.Value{
					"host": host, "argv": cty.ListVal([]cty.Value{cty.StringVal("/opt/pre.sh")}), "env": cty.NullVal(cty.Map(cty.String))})}},
			{Name: "boot", Wave: 1, After: []string{"pre"}, Action: StepSetDefault, Host: "fs2", OnFailure: "abort",
				Invoke:  Invoke{Provider: "disk", Action: "boot_set_default", Args: cty.ObjectVal(map[string]cty.Value{"host": host})},
				Reboot:  &Invoke{Provider: "disk", Action: "host_reboot", Args: cty.ObjectVal(map[string]cty.Value{"host": host})},
				Release: &Invoke{Provider: "disk", Action: "boot_set_default", Args: cty.EmptyObjectVal}, ReleaseSummary: "back"},
			{Name: "ask", Wave: 2, After: []string{"boot"}, Action: StepPrompt, Prompt: "Up?", OnFailure: "abort"},
			{Name: "verify", Wave: 2, After: []string{"boot"}, Action: StepCheck, Check: &holds, OnFailure: "abort"},
			{Name: "probe", Wave: 2, After: []string{"boot"}, Action: StepCheck, Host: "fs2", OnFailure: "abort",
				Checks: []*Assertion{
					{Kind: "tcp", Target: "127.0.0.1:445", Invoke: &Invoke{Provider: "core", Action: "check",
						Args: cty.ObjectVal(map[string]cty.Value{"host": host, "tcp": cty.StringVal("127.0.0.1:445")})}},
					{Kind: "replication_lag", Target: "replication_set.data", Expect: "below 5m0s", Holds: &holds, Detail: "lag 7m0s"}},
				Preconditions:  []*Assertion{{Kind: "file", Target: "/srv/app.conf", Invoke: &Invoke{Provider: "core", Action: "check", Args: cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal("/srv/app.conf")})}}},
				Postconditions: []*Assertion{{Kind: "drive_copy_age", Target: "drive_copy.system", Expect: "below 1h0m0s", Holds: &holds, Detail: "age 2h0m0s"}}},
		},
		Release: []*Release{{Runbook: "failover", Step: "registry", Summary: "import the undo file",
			Invoke: Invoke{Provider: "registry", Action: "registry_import", Args: cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal("/u.reg")})}}},
		Budget: []*BudgetCheck{{Budget: "rpo", Subject: "replication_set.data", Value: 90 * time.Second, Limit: time.Minute, Over: true, Detail: "d"}},
	}}
	b, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	opts := cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) })
	if d := cmp.Diff(p.Runbook, got.Runbook, opts); d != "" {
		t.Errorf("runbook through the document (-want +got):\n%s", d)
	}
	if got.Mode != RunbookMode || !got.HasChanges() {
		t.Errorf("mode %q, has changes %v", got.Mode, got.HasChanges())
	}
	got.Runbook.Steps = got.Runbook.Steps[:1]
	got.Runbook.Release = nil
	if got.HasChanges() {
		t.Error("a runbook plan whose steps are all skipped has changes")
	}
}
