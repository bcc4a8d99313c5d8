package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
)

// TestProviderHelloReadme runs the shell block of
// examples/provider-hello/README.md exactly as written, from that folder
// in a copy of the repository, the way a reader pastes it: the commands
// must work as documented, print the greeting, and leave git status of
// the example clean.
func TestProviderHelloReadme(t *testing.T) {
	t.Parallel()
	git := testenv.Command(t, "git", "git")
	bash := testenv.Command(t, "bash", "bash")
	readme, err := os.ReadFile("../../examples/provider-hello/README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("the README has no ```sh block")
	}
	repo := t.TempDir()
	if err := copyRepository("../..", repo); err != nil {
		t.Fatal(err)
	}
	example := filepath.Join(repo, "examples", "provider-hello")
	if err := gitSnapshot(git, example); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "-e", "-c", string(m[1]))
	cmd.Dir = example
	// The copy is in a new folder each run, and a build's cache keys hold
	// the folder of every package unless paths are trimmed: without
	// -trimpath each run compiled all of Drover again, a minute of CI.
	cmd.Env = append(os.Environ(), "GOFLAGS=-trimpath")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s\n%s", err, m[1], out)
	}
	if !strings.HasSuffix(string(out), "Hello, operations team!\n") {
		t.Fatalf("the README's commands did not end with the greeting:\n%s", out)
	}
	status := exec.Command(git, "status", "--porcelain")
	status.Dir = example
	if st, err := status.CombinedOutput(); err != nil || len(st) > 0 {
		t.Fatalf("running the README's commands left git status of the example unclean (%v):\n%s", err, st)
	}
}

// copyRepository copies the files of the repository at src to dst,
// leaving out its .git.
func copyRepository(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}
