package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestExamples runs testdata/examples/NAME.txtar (and NAME.CASE.txtar,
// more cases of one example) in a copy of examples/NAME, so the examples
// users read are the ones tested. The copy is committed to a git
// repository of its own first, so that a script can check with `git status
// --porcelain` that running the example changed no file git tracks and
// left none that its .gitignore does not cover.
func TestExamples(t *testing.T) {
	t.Parallel()
	git := testenv.Command(t, "git", "git")
	testscript.Run(t, testscript.Params{
		Dir: "testdata/examples",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("NO_COLOR", "1")
			name, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(env.WorkDir), "script-"), ".")
			if err := os.CopyFS(env.WorkDir, os.DirFS(filepath.Join("..", "..", "examples", name))); err != nil {
				return err
			}
			return gitSnapshot(git, env.WorkDir)
		},
		Cmds:      scriptCmds(),
		Condition: driveCondition,
	})
}

// gitSnapshot makes dir a git repository whose one commit holds every
// file in it that its .gitignore files do not exclude. The script's own
// scratch folder ($TMPDIR, .tmp) is not part of the example.
func gitSnapshot(git, dir string) error {
	run := func(args ...string) error {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("init", "--quiet"); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ".git", "info", "exclude"), []byte("/.tmp/\n"), 0o644); err != nil {
		return err
	}
	if err := run("add", "--all"); err != nil {
		return err
	}
	return run("-c", "user.name=drover", "-c", "user.email=drover@example.invalid",
		"commit", "--quiet", "--no-gpg-sign", "--message=the example as shipped")
}
