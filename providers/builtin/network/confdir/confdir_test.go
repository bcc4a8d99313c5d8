package confdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/google/go-cmp/cmp"
)

var testSyntax = Syntax{
	Include: func(file string) string { return "include " + file },
	Missing: func(main string) error { return fmt.Errorf("no configuration at %s", main) },
	Holds:   "Parts Drover manages",
}

// TestIndexAndRestore: the index includes the parts in name order and
// nothing else of the folder; a restore puts a part back, or removes a
// new one, with the index to match.
func TestIndexAndRestore(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "server.conf")
	if err := os.WriteFile(main, []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := Files{Host: host.NewLocal("fs1", ""), Main: main, Syntax: testSyntax}
	for _, name := range []string{"b.conf", "a.conf", "notes.txt", ".c.conf.drover-tmp"} {
		if err := os.MkdirAll(f.Dir(), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(f.Dir(), name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Include(t.Context()); err != nil {
		t.Fatal(err)
	}
	index := func() string {
		b, err := os.ReadFile(f.Index())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := "# Written by Drover: one include per file of this folder.\ninclude " + f.Path("a") + "\ninclude " + f.Path("b") + "\n"
	if diff := cmp.Diff(want, index()); diff != "" {
		t.Errorf("index (-want +got):\n%s", diff)
	}

	if err := os.WriteFile(f.Path("new"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Path("a"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Restore(t.Context(), "new", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := f.Restore(t.Context(), "a", []byte("was"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.Path("new")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the new part after its restore: %v", err)
	}
	if b, _ := os.ReadFile(f.Path("a")); string(b) != "was" {
		t.Errorf("part a after its restore holds %q", b)
	}
	if diff := cmp.Diff(want, index()); diff != "" {
		t.Errorf("index after the restores (-want +got):\n%s", diff)
	}
}

// TestIncludeMissingMain: no main file is the syntax's error, and nothing
// is written.
func TestIncludeMissingMain(t *testing.T) {
	dir := t.TempDir()
	f := Files{Host: host.NewLocal("fs1", ""), Main: filepath.Join(dir, "server.conf"), Syntax: testSyntax}
	err := f.Include(t.Context())
	if want := "no configuration at " + f.Main; err == nil || err.Error() != want {
		t.Errorf("Include = %v, want %q", err, want)
	}
	if _, err := os.Stat(f.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the folder was made: %v", err)
	}
}
