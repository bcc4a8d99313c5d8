package mirror

import (
	"errors"
	"fmt"
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

func TestDeleteLimit(t *testing.T) {
	for _, tc := range []struct {
		limit         string
		deleted, held int
		exceeded      bool
	}{
		{"50%", 1, 2, false},
		{"50%", 2, 3, true},
		{"50%", 5, 10, false},
		{"50%", 6, 10, true},
		{"100%", 10, 10, false},
		{"0.5%", 1, 100, true},
		{"3", 3, 4, false},
		{"3", 4, 100, true},
		{"50%", 0, 0, false},
	} {
		t.Run(fmt.Sprintf("%s/%d of %d", tc.limit, tc.deleted, tc.held), func(t *testing.T) {
			l, err := ParseDeleteLimit(tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := l.exceeded(tc.deleted, tc.held); got != tc.exceeded {
				t.Errorf("exceeded = %v, want %v", got, tc.exceeded)
			}
		})
	}
	for _, bad := range []string{"", "0", "-1", "0%", "101%", "half", "50 percent"} {
		t.Run("refused "+bad, func(t *testing.T) {
			if _, err := ParseDeleteLimit(bad); err == nil {
				t.Errorf("%q accepted", bad)
			}
		})
	}
}

// TestMassDeleteRefused: a whole mirror that would delete more of the
// replica than MaxDelete is refused with nothing deleted, unless allowed;
// deleting up to it goes through.
func TestMassDeleteRefused(t *testing.T) {
	setup := func(t *testing.T) *env {
		e := newEnv(t)
		for _, p := range []string{"a", "b", "c", "d"} {
			write(t, e.src(p), p, t0)
		}
		e.sync(e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll}))
		return e
	}
	half := DeleteLimit{Percent: 50}
	t.Run("over the limit", func(t *testing.T) {
		e := setup(t)
		os.Remove(e.src("a"))
		os.Remove(e.src("b"))
		os.Remove(e.src("c"))
		m := e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll, MaxDelete: half})
		_, err := m.Plan(t.Context())
		if !errors.Is(err, ErrMassDelete) || !strings.Contains(err.Error(), "delete 3 of the 4 entries") {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(e.dst("a")); err != nil {
			t.Errorf("the replica lost a: %v", err)
		}
		allowed := e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll, MaxDelete: half, AllowMassDelete: true})
		e.sync(allowed)
		same(t, e.src(), e.dst())
	})
	t.Run("up to the limit", func(t *testing.T) {
		e := setup(t)
		os.Remove(e.src("a"))
		os.Remove(e.src("b"))
		e.sync(e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll, MaxDelete: half}))
		same(t, e.src(), e.dst())
	})
}

// TestReplacedSourceRefused: a source folder without the marker the last
// mirror recorded, or with another, is refused when opened, unless
// allowed.
func TestReplacedSourceRefused(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("a"), "a", t0)
	m := e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll})
	e.sync(m)
	ids, err := m.MarkSources(t.Context())
	if err != nil || len(ids) != 1 || ids[0] == "" {
		t.Fatalf("ids %q, err %v", ids, err)
	}
	if again, _ := m.MarkSources(t.Context()); again[0] != ids[0] {
		t.Errorf("marked again: %q, want %q", again[0], ids[0])
	}
	// The marker is the source's own: never mirrored.
	if lines := e.sync(m); len(lines) != 0 {
		t.Errorf("after marking: %q", lines)
	}
	open := func(allow bool) error {
		m, err := New(t.Context(), []Pair{e.pair()}, Options{DeleteOrphans: true, SourceIDs: ids, AllowMassDelete: allow})
		if err == nil {
			m.Close()
		}
		return err
	}
	if err := open(false); err != nil {
		t.Fatalf("the same folder: %v", err)
	}
	os.Rename(e.src(), e.src()+".old")
	write(t, e.src("a"), "a", t0)
	if err := open(false); !errors.Is(err, ErrSourceReplaced) || !strings.Contains(err.Error(), "lacks the marker") {
		t.Errorf("a new folder: err = %v", err)
	}
	write(t, e.src(markerName), "another", t0)
	if err := open(false); !errors.Is(err, ErrSourceReplaced) || !strings.Contains(err.Error(), "another marker") {
		t.Errorf("another marked folder: err = %v", err)
	}
	if err := open(true); err != nil {
		t.Errorf("allowed: %v", err)
	}
	// A marker Drover did not write (damaged, non-UTF-8 bytes) is
	// refused as another one, and once allowed the folder gets an
	// identity of its own: the old bytes cannot be recorded.
	write(t, e.src(markerName), "\xff\xfe\n", t0)
	if err := open(false); !errors.Is(err, ErrSourceReplaced) || !strings.Contains(err.Error(), "another marker") {
		t.Errorf("a damaged marker: err = %v", err)
	}
	m, err = New(t.Context(), []Pair{e.pair()}, Options{DeleteOrphans: true, SourceIDs: ids, AllowMassDelete: true})
	if err != nil {
		t.Fatalf("allowed: %v", err)
	}
	defer m.Close()
	fresh, err := m.MarkSources(t.Context())
	if err != nil || !validID(fresh[0]) || fresh[0] == ids[0] {
		t.Fatalf("marked after a damaged marker: %q, %v", fresh, err)
	}
	if b, err := os.ReadFile(e.src(markerName)); err != nil || strings.TrimSpace(string(b)) != fresh[0] {
		t.Errorf("the marker: %q, %v", b, err)
	}
}

// TestChainedMarkers: a replica that is the source of another set keeps
// that set's marker through the mirror that feeds it, with delete_orphans.
func TestChainedMarkers(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("a"), "a", t0)
	first := e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll})
	e.sync(first)
	next := e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll},
		Pair{Source: Endpoint{e.fs2, "/replica/set"}, Target: Endpoint{e.fs2, "/replica2/set"}})
	e.sync(next)
	ids, err := next.MarkSources(t.Context())
	if err != nil || ids[0] == "" {
		t.Fatalf("ids %q, err %v", ids, err)
	}
	write(t, e.src("b"), "b", t0)
	if got := e.sync(first); joinLines(got) != "~ / (mtime)\n+ b (1 B)" {
		t.Errorf("plan of the first set: %q", got)
	}
	if b, err := os.ReadFile(e.dst(markerName)); err != nil || strings.TrimSpace(string(b)) != ids[0] {
		t.Errorf("the second set's marker: %q, %v", b, err)
	}
}
