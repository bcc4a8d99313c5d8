package local

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/internal/atomicfile"
	"github.com/drover-dr/drover/state"
)

// TestWritesIgnorePlantedSymlinks: symlinks planted where the backup, the
// temp files and the journal go are replaced or refused, never written
// through.
func TestWritesIgnorePlantedSymlinks(t *testing.T) {
	ctx := context.Background()
	b, path := newBackend(t)
	s := stateWith("L", 0, 1)
	if err := b.Persist(ctx, s, state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("root only"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir, base := filepath.Split(path)
	plant := func(paths ...string) {
		for _, p := range paths {
			if err := os.Symlink(victim, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	plant(path+".backup", dir+atomicfile.TempPrefix(base), dir+atomicfile.TempPrefix(base)+"0", dir+"."+base+".drover-tmp")
	if err := b.Persist(ctx, s, state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	plant(path + ".journal")
	if j, err := b.Journal(ctx, s); err == nil {
		j.Close()
		if fi, err := os.Lstat(path + ".journal"); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("the journal begun is not a regular file: %v", err)
		}
	}
	if got, _ := os.ReadFile(victim); string(got) != "root only" {
		t.Errorf("the symlinks' target now holds %q", got)
	}
	for _, p := range []string{path, path + ".backup"} {
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s is not a regular file: %v", p, err)
		}
	}
}
