package planner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/lang"
	"github.com/zclconf/go-cty/cty"
)

func TestEvalTrigger(t *testing.T) {
	dir := t.TempDir()
	src := `
variable "every" {
  type    = string
  default = "5s"
}
host "fs1" { address = "10.0.0.5" }
host "w" { address = "10.0.0.9:2222" }
host "here" {}
runbook "defaults" {
  trigger { heartbeat = host.fs1 }
  step "s" { wait = "1s" }
}
runbook "full" {
  trigger {
    heartbeat = host.fs1
    interval  = var.every
    missed    = 3
    witness   = host.w
  }
  step "s" { wait = "1s" }
}
runbook "self_witness" {
  trigger {
    heartbeat = host.fs1
    witness   = host.fs1
  }
  step "s" { wait = "1s" }
}
runbook "local" {
  trigger { heartbeat = host.here }
  step "s" { wait = "1s" }
}
runbook "none" {
  step "s" { wait = "1s" }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := lang.LoadDir(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	vars := map[string]cty.Value{"every": cty.StringVal("2s")}
	for _, tc := range []struct {
		runbook  string
		interval time.Duration
		missed   int
		witness  string
		err      string
	}{
		{runbook: "defaults", interval: 5 * time.Second, missed: 5},
		{runbook: "full", interval: 2 * time.Second, missed: 3, witness: "w"},
		{runbook: "self_witness", err: `The witness is the heartbeat host "fs1" itself`},
		{runbook: "local", err: `The heartbeat is host "here", this machine`},
		{runbook: "none", err: `Runbook "none" has no trigger block`},
		{runbook: "nope", err: `no runbook "nope"`},
	} {
		t.Run(tc.runbook, func(t *testing.T) {
			trig, diags := EvalTrigger(cfg, vars, tc.runbook)
			if tc.err != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.err) {
					t.Fatalf("diagnostics %v, want %q", diags, tc.err)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			witness := ""
			if trig.Witness != nil {
				witness = trig.Witness.Name
			}
			if trig.Heartbeat.Name != "fs1" || trig.Heartbeat.Address != "10.0.0.5" || trig.Interval != tc.interval || trig.Missed != tc.missed || witness != tc.witness {
				t.Errorf("trigger %+v", trig)
			}
		})
	}
}
