package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// The test binary doubles as drover: testscript runs `drover ...` in
// scripts by re-executing it, so the scripts exercise the real CLI, the
// real plugin processes (internal-plugin) and real files.
func TestMain(m *testing.M) {
	// Built-in providers start os.Executable() — this test binary — with
	// `internal-plugin NAME`; serve them as the drover binary would.
	if len(os.Args) > 1 && os.Args[1] == "internal-plugin" {
		main()
		return
	}
	testscript.Main(m, map[string]func(){
		"drover": func() { main() },
	})
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
		Cmds:      driveCmds,
		Condition: driveCondition,
	})
}
