package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestExamples runs testdata/examples/NAME.txtar (and NAME.CASE.txtar,
// more cases of one example) in a copy of examples/NAME, so the examples
// users read are the ones tested.
func TestExamples(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/examples",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("NO_COLOR", "1")
			name, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(env.WorkDir), "script-"), ".")
			return os.CopyFS(env.WorkDir, os.DirFS(filepath.Join("..", "..", "examples", name)))
		},
		Cmds:      scriptCmds(),
		Condition: driveCondition,
	})
}
