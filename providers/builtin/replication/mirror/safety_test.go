package mirror

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
)

func TestPathsWithDotDotRefused(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("f"), "f", t0)
	for _, p := range []Pair{
		{Endpoint{e.fs1, "/srv/set/../set"}, Endpoint{e.fs2, "/replica"}},
		{Endpoint{e.fs1, "/srv/set"}, Endpoint{e.fs2, "/replica/../../x"}},
		{Endpoint{e.fs1, "srv/set"}, Endpoint{e.fs2, "/replica"}},
		{Endpoint{e.fs1, "/srv/set/"}, Endpoint{e.fs2, "/replica"}},
	} {
		if _, err := New(t.Context(), []Pair{p}, Options{}); err == nil {
			t.Errorf("%s -> %s: no error", p.Source, p.Target)
		}
	}
	if _, err := New(t.Context(), []Pair{e.pair()}, Options{Exclude: []string{"../*"}}); err == nil {
		t.Error("an exclude climbing out of the set gave no error")
	}
}

func TestOverlapsRefused(t *testing.T) {
	e := newEnv(t)
	write(t, filepath.Join(e.r1, "srv/set/sub/f"), "f", t0)
	if err := os.Symlink("srv/set", filepath.Join(e.r1, "alias")); err != nil {
		t.Fatal(err)
	}
	// A host rooted inside another host's folder sees the same files.
	inner := host.NewLocal("inner", filepath.Join(e.r1, "srv/set/sub"))
	defer inner.Close()
	tests := []struct {
		name string
		p    []Pair
	}{
		{"target inside source", []Pair{{Endpoint{e.fs1, "/srv/set"}, Endpoint{e.fs1, "/srv/set/replica"}}}},
		{"source inside target", []Pair{{Endpoint{e.fs1, "/srv/set/sub"}, Endpoint{e.fs1, "/srv"}}}},
		{"same folder", []Pair{{Endpoint{e.fs1, "/srv/set"}, Endpoint{e.fs1, "/srv/set"}}}},
		{"through a symlink", []Pair{{Endpoint{e.fs1, "/srv/set"}, Endpoint{e.fs1, "/alias/replica"}}}},
		{"across rooted hosts", []Pair{{Endpoint{e.fs1, "/srv/set"}, Endpoint{inner, "/replica"}}}},
		{"two targets nested", []Pair{
			{Endpoint{e.fs1, "/srv/set/sub"}, Endpoint{e.fs2, "/r"}},
			{Endpoint{e.fs1, "/srv/set"}, Endpoint{e.fs2, "/r/x"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), tt.p, Options{})
			if !errors.Is(err, ErrOverlap) {
				t.Fatalf("err = %v, want ErrOverlap", err)
			}
		})
	}
	m, err := New(t.Context(), []Pair{{Endpoint{e.fs1, "/srv/set"}, Endpoint{e.fs2, "/srv/set"}}}, Options{})
	if err != nil {
		t.Errorf("the same path on two machines: %v", err)
	} else {
		m.Close()
	}
}

func TestVanishedSource(t *testing.T) {
	setup := func(t *testing.T) (*env, *Mirror) {
		e := newEnv(t)
		write(t, e.src("a"), "a", t0)
		write(t, e.src("d/b"), "b", t0)
		m := e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll})
		e.sync(m)
		return e, m
	}
	kept := func(t *testing.T, e *env) {
		t.Helper()
		for _, p := range []string{"a", "d/b"} {
			if _, err := os.Stat(e.dst(p)); err != nil {
				t.Errorf("the replica lost %s: %v", p, err)
			}
		}
	}

	t.Run("missing before the run", func(t *testing.T) {
		e := newEnv(t)
		_, err := New(t.Context(), []Pair{e.pair()}, Options{DeleteOrphans: true})
		if !errors.Is(err, ErrSourceVanished) || !strings.Contains(err.Error(), "fs1:/srv/set") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("removed after opening", func(t *testing.T) {
		e, m := setup(t)
		os.RemoveAll(e.src())
		if _, err := m.Plan(t.Context()); !errors.Is(err, ErrSourceVanished) {
			t.Fatalf("err = %v", err)
		}
		kept(t, e)
	})
	t.Run("emptied", func(t *testing.T) {
		e, _ := setup(t)
		os.RemoveAll(e.src("a"))
		os.RemoveAll(e.src("d"))
		m := e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll})
		if _, err := m.Plan(t.Context()); !errors.Is(err, ErrSourceVanished) || !strings.Contains(err.Error(), "empty") {
			t.Fatalf("err = %v", err)
		}
		kept(t, e)
	})
	t.Run("replaced between plan and apply", func(t *testing.T) {
		e, m := setup(t)
		os.Remove(e.src("a"))
		pl, err := m.Plan(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(e.src(), e.src()+".old"); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(e.src(), 0o755)
		if _, err := m.Apply(t.Context(), pl, nil); !errors.Is(err, ErrSourceVanished) {
			t.Fatalf("err = %v", err)
		}
		kept(t, e)
	})
	t.Run("unmounted", func(t *testing.T) {
		testenv.Root(t)
		mount := testenv.Command(t, "mount", "mount")
		e := newEnv(t)
		os.MkdirAll(e.src(), 0o755)
		if out, err := exec.Command(mount, "-t", "tmpfs", "drover-test", e.src()).CombinedOutput(); err != nil {
			testenv.Missing(t, "a tmpfs mount", string(out))
		}
		mounted := true
		unmount := func() {
			if mounted {
				if out, err := exec.Command("umount", "--lazy", e.src()).CombinedOutput(); err != nil {
					t.Errorf("umount: %v %s", err, out)
				}
				mounted = false
			}
		}
		t.Cleanup(unmount)
		write(t, e.src("a"), "a", t0)
		write(t, e.src("d/b"), "b", t0)
		m := e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll})
		e.sync(m)
		unmount()
		if _, err := m.Plan(t.Context()); !errors.Is(err, ErrSourceVanished) {
			t.Errorf("the running mirror: err = %v", err)
		}
		fresh, err := New(t.Context(), []Pair{e.pair()}, Options{DeleteOrphans: true, Preserve: PreserveAll})
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		if _, err := fresh.Plan(t.Context()); !errors.Is(err, ErrSourceVanished) {
			t.Errorf("a new mirror of the empty mount point: err = %v", err)
		}
		kept(t, e)
	})
}

func TestSymlinksNeverFollowed(t *testing.T) {
	e := newEnv(t)
	outside := filepath.Join(filepath.Dir(e.r1), "outside")
	write(t, filepath.Join(outside, "secret"), "secret", t0)
	write(t, e.src("dir/f"), "inside", t0)
	os.Symlink(outside, e.src("abs"))
	os.Symlink("../../../outside", e.src("rel"))
	// The target holds a link where the source has a folder.
	os.MkdirAll(e.dst(), 0o755)
	os.Symlink(outside, e.dst("dir"))
	m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true})
	e.sync(m)
	same(t, e.src(), e.dst())
	if _, err := os.Stat(filepath.Join(outside, "f")); err == nil {
		t.Error("a file was written through the target's link")
	}
	if _, err := os.Stat(e.dst("abs/secret")); err != nil {
		t.Errorf("the link was not copied as a link: %v", err)
	}

	// A link swapped in between plan and apply leads nowhere either.
	write(t, e.src("dir/g"), "late", t0)
	pl, err := m.Plan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(e.dst("dir"))
	os.Symlink(outside, e.dst("dir"))
	_, err = m.Apply(t.Context(), pl, nil)
	var ae *ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want the file listed", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "g")); err == nil {
		t.Error("a file was written through a link swapped in")
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("the folder outside changed: %v", entries)
	}
	e.sync(m)
	same(t, e.src(), e.dst())
}

func TestPermissionErrorsListedRestDone(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"a", "locked/x", "locked/y", "z"} {
		write(t, e.src(p), p, t0)
	}
	m := e.mirror(Options{Preserve: PreserveAll})
	e.sync(m)
	for _, p := range []string{"a", "locked/x", "locked/y", "z", "locked/new"} {
		write(t, e.src(p), p+" changed", t0.Add(1e9))
	}
	if os.Geteuid() == 0 {
		chattr := testenv.Command(t, "chattr", "e2fsprogs")
		if out, err := exec.Command(chattr, "+i", e.dst("locked")).CombinedOutput(); err != nil {
			testenv.Missing(t, "an immutable folder (chattr +i on the test file system)", string(out))
		}
		t.Cleanup(func() { exec.Command(chattr, "-i", e.dst("locked")).Run() })
	} else {
		os.Chmod(e.dst("locked"), 0o555)
		t.Cleanup(func() { os.Chmod(e.dst("locked"), 0o755) })
	}
	pl, err := m.Plan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply(t.Context(), pl, nil)
	var ae *ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an ApplyError", err)
	}
	var failed []string
	for _, pe := range ae.Errors {
		failed = append(failed, pe.Path)
	}
	for _, p := range []string{"locked/new", "locked/x", "locked/y"} {
		if !strings.Contains(strings.Join(failed, " "), p) || !strings.Contains(err.Error(), "/"+p) {
			t.Errorf("%s is not listed: %v", p, err)
		}
	}
	for _, p := range []string{"a", "z"} {
		if b, _ := os.ReadFile(e.dst(p)); string(b) != p+" changed" {
			t.Errorf("%s was not mirrored despite the other errors: %q", p, b)
		}
	}
}
