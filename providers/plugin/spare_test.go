package plugin_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/plugin"
	"github.com/drover-dr/drover/providers/plugin/spare"
)

// spareFactory keeps a spare of the test binary and returns a factory of
// plugins started from the same binary in dir, which the spare can become.
func spareFactory(t *testing.T) (*spare.Process, string, func() *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("DROVER_TEST_SPARE", "1")
	t.Setenv("DROVER_TEST_PLUGIN", "ok")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spare.Start(exe)
	if err != nil {
		t.Fatal(err)
	}
	spare.Keep(sp)
	t.Cleanup(spare.Release)
	return sp, exe, func() *exec.Cmd { return exec.Command(exe, "-test.run=^$") }
}

func checkServes(t *testing.T, f func() *exec.Cmd) {
	t.Helper()
	p, err := plugin.Factory("core", f, nil)()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if resp := p.Schema(context.Background(), providers.SchemaRequest{}); resp.Diagnostics.HasErrors() || resp.Schema.ResourceTypes["value"] == nil {
		t.Fatalf("the plugin does not serve core: %v", resp.Diagnostics)
	}
}

// TestSpareBecomesPlugin checks that a kept spare of the plugin's binary
// becomes the plugin, in the folder and with the environment of the
// process that takes it, instead of a new process starting.
func TestSpareBecomesPlugin(t *testing.T) {
	_, exe, cmd := spareFactory(t)
	checkServes(t, cmd)
	if spare.Take(exe) != nil {
		t.Fatal("the spare was not taken")
	}
	if _, err := os.Stat("spare-became-plugin"); err != nil {
		t.Fatalf("the plugin was not the spare: %v", err)
	}
}

// TestDeadSpare checks that a plugin still starts when the spare died
// before it was taken.
func TestDeadSpare(t *testing.T) {
	sp, _, cmd := spareFactory(t)
	sp.Kill()
	checkServes(t, cmd)
	if _, err := os.Stat("spare-became-plugin"); err == nil {
		t.Fatal("a dead spare became the plugin")
	}
}
