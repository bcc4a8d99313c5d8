package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/cmd/drover/internal/prelaunch"
	"github.com/rogpeppe/go-internal/testscript"
)

// The end-to-end tests run in parallel (t.Parallel; two at a time on a
// 2-core machine): each works in folders, servers and a drover binary of
// its own, and most of their time is spent waiting for processes.
//
// The test binary doubles as drover: testscript runs `drover ...` in
// scripts by re-executing it, so the scripts exercise the real CLI, the
// real plugin processes (internal-plugin) and real files.
func TestMain(m *testing.M) {
	// Built-in providers start os.Executable() — this test binary — with
	// `internal-plugin NAME`, or a spare that becomes one, and SSH hosts
	// upload it as their agent; serve them as the drover binary would.
	if len(os.Args) > 1 && (os.Args[1] == "internal-plugin" || os.Args[1] == prelaunch.SpareCommand || os.Args[1] == agentCommand) {
		main()
		return
	}
	testscript.Main(removeBuilt{m}, map[string]func(){
		"drover": func() { main() },
	})
}

// removeBuilt runs the tests, then removes the binary buildDrover built.
type removeBuilt struct{ m *testing.M }

func (r removeBuilt) Run() int {
	code := r.m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	return code
}

// TestScripts runs the end-to-end scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds:      scriptCmds(),
		Condition: driveCondition,
	})
}

// scriptCmds are the commands scripts may use beyond testscript's own.
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){"waitfor": cmdWaitfor}
	for name, f := range driveCmds {
		cmds[name] = f
	}
	for name, f := range lockCmds {
		cmds[name] = f
	}
	for name, f := range networkCmds {
		cmds[name] = f
	}
	for name, f := range checkCmds {
		cmds[name] = f
	}
	for name, f := range vmCmds {
		cmds[name] = f
	}
	for name, f := range runbookCmds {
		cmds[name] = f
	}
	for name, f := range hostCheckCmds {
		cmds[name] = f
	}
	return cmds
}

// cmdWaitfor is `waitfor FILE [TEXT]`: polls until FILE exists (and holds
// TEXT), for what a background command does, failing after 30 seconds.
func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfor FILE [TEXT]")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		if err == nil && (len(args) == 1 || strings.Contains(string(b), args[1])) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waited 30s for %s: %v, content %q", args[0], err, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
