package vm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drover-dr/drover/providers"
	"github.com/zclconf/go-cty/cty"
)

// TestGuestFence: two QEMU guests, a source and its replica on another
// host. The replica does not start while the source runs, starts with
// force = true (warning), and starts once the source is stopped.
func TestGuestFence(t *testing.T) {
	t.Parallel()
	src, dst := newMachine(t), newMachine(t)
	src.bootDisk("/srv/fs1.img", "FS1 SOURCE")
	dst.bootDisk("/srv/fs1.img", "FS1 REPLICA")
	srcAttrs := map[string]cty.Value{"name": cty.StringVal("fs1"), "boot_check": check("FS1 SOURCE", "30s")}
	source, _, diags := src.apply(cty.NullVal(guestType), src.config([]string{"/srv/fs1.img"}, srcAttrs))
	if diags.HasErrors() {
		t.Fatalf("source start: %s", render(diags))
	}
	replica := func(source cty.Value, force bool) cty.Value {
		return dst.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"boot_check": check("FS1 REPLICA", "30s"),
			"source_guest": source, "force": cty.BoolVal(force)})
	}

	_, _, diags = dst.apply(cty.NullVal(guestType), replica(source, false))
	want := fmt.Sprintf(`Source guest still runs: The source guest "fs1" (QEMU pid %d on host "fs2") still runs, so its replica does not start: two copies of one server on one network is split-brain. Fence it first: running = false on its vm_guest`, pidOf(t, source))
	if msg := render(diags); !strings.Contains(msg, want) {
		t.Errorf("diagnostics:\n%s\nwant\n%s", msg, want)
	}
	if pids := qemusBelow(dst.root); len(pids) > 0 {
		t.Fatalf("the replica's QEMU runs although refused: %v", pids)
	}

	state, _, diags := dst.apply(cty.NullVal(guestType), replica(source, true))
	if diags.HasErrors() || len(diags) != 1 || diags[0].Severity != providers.Warning || !strings.Contains(diags[0].Detail, "its replica starts because force = true: two copies of one server now run") {
		t.Fatalf("forced start: %s", render(diags))
	}
	if state.GetAttr("status").AsString() != "running" {
		t.Errorf("forced replica: %#v", state)
	}
	dst.destroy(state)

	// Fenced: the source stopped (running = false), then the replica
	// starts without a word.
	srcAttrs["running"] = cty.False
	if source, _, diags = src.apply(source, src.config([]string{"/srv/fs1.img"}, srcAttrs)); diags.HasErrors() {
		t.Fatalf("source stop: %s", render(diags))
	}
	state, _, diags = dst.apply(cty.NullVal(guestType), replica(source, false))
	if len(diags) > 0 {
		t.Fatalf("start after the fence: %s", render(diags))
	}
	// A source started again behind Drover's back is seen live, not from
	// the value the replica was given: a restart of the replica is
	// refused.
	stopped := dst.config([]string{"/srv/fs1.img"}, map[string]cty.Value{"boot_check": check("FS1 REPLICA", "30s"),
		"source_guest": source, "running": cty.False})
	if state, _, diags = dst.apply(state, stopped); diags.HasErrors() {
		t.Fatalf("replica stop: %s", render(diags))
	}
	srcAttrs["running"] = cty.True
	if _, _, diags = src.apply(source, src.config([]string{"/srv/fs1.img"}, srcAttrs)); diags.HasErrors() {
		t.Fatalf("source restart: %s", render(diags))
	}
	if _, _, diags = dst.apply(state, replica(source, false)); !strings.Contains(render(diags), "Source guest still runs") {
		t.Errorf("restart of the replica beside a running source: %s", render(diags))
	}
	dst.destroy(state)
	src.destroy(source)
}
