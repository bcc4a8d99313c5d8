package local

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/drover-dr/drover/internal/atomicfile"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/state"
)

// nobody is the user who plants the symlinks: one who may write to the
// state's folder but not read root's files.
const nobody = 65534

// newSharedBackend is a backend whose folder belongs to the user nobody,
// and a file of root's only, the victim a planted symlink leads to.
func newSharedBackend(t *testing.T) (b *Backend, path, victim string) {
	testenv.Root(t)
	top := t.TempDir()
	for _, d := range []string{filepath.Dir(top), top} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(top, "secret")
	if err := os.Mkdir(secret, 0o700); err != nil {
		t.Fatal(err)
	}
	victim = filepath.Join(secret, "victim")
	if err := os.WriteFile(victim, []byte("root only"), 0o600); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(top, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(shared, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(shared, DefaultPath)
	return New(path), path, victim
}

// plantAsNobody has the user nobody make each link a symlink to victim.
func plantAsNobody(t *testing.T, victim string, links ...string) {
	t.Helper()
	for _, link := range links {
		cmd := exec.Command("ln", "-s", victim, link)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("as nobody, ln -s %s %s: %v: %s", victim, link, err, out)
		}
	}
}

// TestWritesIgnorePlantedSymlinks: symlinks that another user planted
// where the backup, the temp files and the journal go are replaced or
// refused, never written through.
func TestWritesIgnorePlantedSymlinks(t *testing.T) {
	ctx := context.Background()
	b, path, victim := newSharedBackend(t)
	s := stateWith("L", 0, 1)
	if err := b.Persist(ctx, s, state.PersistOptions{}); err != nil {
		t.Fatal(err)
	}
	dir, base := filepath.Split(path)
	plant := func(paths ...string) { plantAsNobody(t, victim, paths...) }
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
