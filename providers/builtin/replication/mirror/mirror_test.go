package mirror

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

func TestMirrorFirstAndIncremental(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("a.txt"), "alpha", t0)
	write(t, e.src("docs/b.txt"), "bravo", t0)
	write(t, e.src("docs/deep/c.txt"), "charlie", t0)
	write(t, e.src("old.txt"), "gone soon", t0)
	if err := os.Mkdir(e.src("empty"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("docs/b.txt", e.src("link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(e.src("a.txt"), 0o4755); err != nil {
		t.Fatal(err)
	}
	m := e.mirror(Options{DeleteOrphans: true, Preserve: PreserveAll})

	pl, err := m.Plan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"+ /", "+ a.txt (5 B)", "+ docs/", "+ docs/b.txt (5 B)", "+ docs/deep/", "+ docs/deep/c.txt (7 B)",
		"+ empty/", "+ link -> docs/b.txt", "+ old.txt (9 B)"}
	if d := cmp.Diff(want, lines(pl)); d != "" {
		t.Errorf("first plan (-want +got):\n%s", d)
	}
	if pl.Summary.Add != 9 || pl.Summary.Bytes != 26 || pl.Summary.Oldest == 0 {
		t.Errorf("summary %+v", pl.Summary)
	}
	rep, err := m.Apply(t.Context(), pl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done.Add != 9 || rep.Done.Bytes != 26 {
		t.Errorf("report %+v", rep.Done)
	}
	same(t, e.src(), e.dst())
	if got := e.sync(m); len(got) != 0 {
		t.Errorf("a second plan is not empty: %v", got)
	}

	t1 := t0.Add(time.Hour)
	write(t, e.src("a.txt"), "alpha, longer", t1)
	write(t, e.src("docs/b.txt"), "BRAVO", t1)
	write(t, e.src("new/d.txt"), "delta", t1)
	os.Remove(e.src("old.txt"))
	os.Chmod(e.src("docs/deep/c.txt"), 0o600)
	os.Remove(e.src("link"))
	os.Symlink("a.txt", e.src("link"))
	pl, err = m.Plan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Folders whose entries changed have new times too.
	got := lines(pl)
	for _, w := range []string{"~ a.txt (size, mtime)", "~ docs/b.txt (mtime)", "~ docs/deep/c.txt (mode)",
		"+ new/", "+ new/d.txt (5 B)", "- old.txt", "~ link -> a.txt (link target)"} {
		if !strings.Contains(joinLines(got), w) {
			t.Errorf("plan lacks %q:\n%s", w, joinLines(got))
		}
	}
	if _, err := m.Apply(t.Context(), pl, nil); err != nil {
		t.Fatal(err)
	}
	same(t, e.src(), e.dst())
}

func TestChecksum(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("f"), "aaaa", t0)
	m := e.mirror(Options{Preserve: PreserveAll})
	e.sync(m)
	// Same size, same time, other data: only a content comparison sees it.
	write(t, e.dst("f"), "bbbb", t0)
	if got := e.sync(m); len(got) != 0 {
		t.Errorf("size and time plan: %v", got)
	}
	mc := e.mirror(Options{Preserve: PreserveAll, Checksum: true})
	if got := e.sync(mc); joinLines(got) != "~ f (content)" {
		t.Errorf("checksum plan: %v", got)
	}
	same(t, e.src(), e.dst())
	// Another time, same data: only the time is set.
	os.Chtimes(e.dst("f"), t0.Add(time.Hour), t0.Add(time.Hour))
	if got := e.sync(mc); joinLines(got) != "~ f (mtime)" {
		t.Errorf("checksum plan of a time change: %v", got)
	}
	same(t, e.src(), e.dst())
}

func TestFilters(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"keep.reg", "x.tmp", "sub/y.tmp", "sub/keep.reg", "cache/z.reg", "logs/a.txt"} {
		write(t, e.src(p), p, t0)
	}
	// Target entries the filter skips are never deleted.
	write(t, e.dst("cache/mine"), "mine", t0)
	write(t, e.dst("w.tmp"), "mine", t0)
	m := e.mirror(Options{Include: []string{"*.reg", "logs/"}, Exclude: []string{"*.tmp", "cache/"}, DeleteOrphans: true, Preserve: PreserveAll})
	e.sync(m)
	want := []string{".", "cache", "cache/mine", "keep.reg", "logs", "logs/a.txt", "sub", "sub/keep.reg", "w.tmp"}
	var got []string
	for rel := range snapshot(t, e.dst(), false) {
		got = append(got, rel)
	}
	if d := cmp.Diff(want, sorted(got)); d != "" {
		t.Errorf("target (-want +got):\n%s", d)
	}
}

func TestOrphansKeptUnlessAsked(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("a"), "a", t0)
	write(t, e.dst("orphan/b"), "b", t0)
	e.sync(e.mirror(Options{Preserve: PreserveAll}))
	if _, err := os.Stat(e.dst("orphan/b")); err != nil {
		t.Errorf("an orphan was deleted without delete_orphans: %v", err)
	}
	got := e.sync(e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true}))
	if d := cmp.Diff([]string{"- orphan/", "- orphan/b"}, got); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	same(t, e.src(), e.dst())
}

func TestTypeChanges(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("was-dir"), "now a file", t0)
	write(t, e.src("was-file/inner"), "now a folder", t0)
	os.Symlink("x", e.src("was-link"))
	write(t, e.dst("was-dir/deep/f"), "old", t0)
	write(t, e.dst("was-file"), "old", t0)
	write(t, e.dst("was-link"), "old", t0)
	m := e.mirror(Options{Preserve: PreserveAll})
	got := e.sync(m)
	for _, w := range []string{"~ was-dir (type)", "- was-dir/deep/", "- was-dir/deep/f", "~ was-file/ (type)", "~ was-link -> x (type)"} {
		if !strings.Contains(joinLines(got), w) {
			t.Errorf("plan lacks %q:\n%s", w, joinLines(got))
		}
	}
	same(t, e.src(), e.dst())
}

func TestHardLinksAndOwners(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("a"), "shared", t0)
	if err := os.Link(e.src("a"), e.src("b")); err != nil {
		t.Fatal(err)
	}
	write(t, e.src("c"), "owned", t0)
	if os.Geteuid() == 0 {
		os.Lchown(e.src("c"), 1234, 5678)
	}
	m := e.mirror(Options{Preserve: PreserveAll})
	if got := e.sync(m); !strings.Contains(joinLines(got), "+ b => a") {
		t.Errorf("plan: %v", got)
	}
	same(t, e.src(), e.dst())
	write(t, e.src("a"), "shared, changed", t0.Add(time.Hour))
	e.sync(m)
	same(t, e.src(), e.dst())
}

func TestTempDebrisRemoved(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("f"), "f", t0)
	write(t, e.dst(".f.drover-tmp"), "partial", t0)
	write(t, e.src(".g.drover-tmp"), "not ours to copy", t0)
	got := e.sync(e.mirror(Options{Preserve: PreserveAll}))
	if !strings.Contains(joinLines(got), "- .f.drover-tmp") {
		t.Errorf("plan: %v", got)
	}
	if _, err := os.Lstat(e.dst(".f.drover-tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("debris left: %v", err)
	}
	if _, err := os.Lstat(e.dst(".g.drover-tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a source temp name was copied: %v", err)
	}
}

func TestSeveralPairs(t *testing.T) {
	e := newEnv(t)
	write(t, filepath.Join(e.r1, "srv/a/f"), "a", t0)
	write(t, filepath.Join(e.r1, "srv/b/g"), "b", t0)
	m := e.mirror(Options{Preserve: PreserveAll},
		Pair{Endpoint{e.fs1, "/srv/a"}, Endpoint{e.fs2, "/replica/srv/a"}},
		Pair{Endpoint{e.fs1, "/srv/b"}, Endpoint{e.fs2, "/replica/srv/b"}})
	e.sync(m)
	same(t, filepath.Join(e.r1, "srv/a"), filepath.Join(e.r2, "replica/srv/a"))
	same(t, filepath.Join(e.r1, "srv/b"), filepath.Join(e.r2, "replica/srv/b"))
}

func TestBandwidth(t *testing.T) {
	e := newEnv(t)
	write(t, e.src("f"), strings.Repeat("x", 2<<20), t0)
	m := e.mirror(Options{Preserve: PreserveAll, Bandwidth: 2 << 20})
	start := time.Now()
	e.sync(m)
	// A lower bound only: the limit holds the copy back at least this long.
	if el := time.Since(start); el < 700*time.Millisecond {
		t.Errorf("2 MiB at 2 MiB/s took %v", el)
	}
	same(t, e.src(), e.dst())
}
