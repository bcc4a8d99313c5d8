package replication

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestApplyMirrorsChangesMadeAfterThePlan checks that what changes between
// the refresh (or plan) and the apply of one run is mirrored: a file a
// resource applied earlier writes into the source, an edited replica, a
// file changed through a hard link from outside the set.
func TestApplyMirrorsChangesMadeAfterThePlan(t *testing.T) {
	cases := []struct {
		name   string
		link   bool // a source file has a hard link outside the set
		change func(e *setEnv)
		check  string // replica file that must hold want
		want   string
	}{
		{"a file written into the source", false, func(e *setEnv) { e.write("srv/repset/sub/capture.reg", "captured") },
			"sub/capture.reg", "captured"},
		{"the replica edited", false, func(e *setEnv) {
			os.WriteFile(filepath.Join(e.r2, "replica/fs1/srv/repset/b.txt"), []byte("edited on the standby"), 0o644)
		}, "b.txt", "bravo"},
		{"a file changed through a link outside the set", true, func(e *setEnv) {
			os.WriteFile(filepath.Join(e.r1, "outside-link"), []byte("bravo, changed"), 0o644)
		}, "b.txt", "bravo, changed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newSetEnv(t)
			e.write("srv/repset/a.txt", "alpha")
			e.write("srv/repset/b.txt", "bravo")
			if c.link {
				if err := os.Link(filepath.Join(e.r1, "srv/repset/b.txt"), filepath.Join(e.r1, "outside-link")); err != nil {
					t.Fatal(err)
				}
			}
			config := e.config(nil)
			none := cty.NullVal(setType)
			ar := e.apply(none, e.plan(none, config).Planned)
			noErr(t, ar.Diagnostics)

			e.write("srv/repset/a.txt", "alpha, changed")
			rr := e.read(ar.New)
			noErr(t, rr.Diagnostics)
			pr := e.plan(rr.New, config)
			noErr(t, pr.Diagnostics)
			c.change(e)
			noErr(t, e.apply(rr.New, pr.Planned).Diagnostics)
			got, err := os.ReadFile(filepath.Join(e.r2, "replica/fs1/srv/repset", c.check))
			if err != nil || string(got) != c.want {
				t.Errorf("replica of %s holds %q, %v; want %q", c.check, got, err, c.want)
			}
		})
	}
}

// TestApplyReusesQuietWalk checks that apply mirrors by the walk of the
// refresh only while nothing changed since it began.
func TestApplyReusesQuietWalk(t *testing.T) {
	e := newSetEnv(t)
	e.write("srv/repset/a.txt", "alpha")
	c, diags := parseSet(e.config(nil))
	noErr(t, diags)
	ctx := t.Context()
	walkBoth := func() *walked {
		t.Helper()
		refreshed, err := refreshWalk(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if w, err := planWalk(ctx, c); err != nil || w != refreshed {
			t.Fatalf("plan walked again (%v)", err)
		}
		return refreshed
	}
	apply := func() *walked {
		t.Helper()
		w, err := applyWalk(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.close)
		return w
	}

	// The target folder does not exist yet: it must still not exist.
	refreshed := walkBoth()
	if w := apply(); w != refreshed {
		t.Error("a first mirror walked again although the target folder is still missing")
	}
	if _, err := refreshed.m.Apply(ctx, refreshed.plan, nil); err != nil {
		t.Fatal(err)
	}

	refreshed = walkBoth()
	if w := apply(); w != refreshed {
		t.Error("apply walked again although nothing changed")
	}

	refreshed = walkBoth()
	os.MkdirAll(filepath.Join(e.r2, "replica/fs1/srv/repset/new"), 0o755)
	if w := apply(); w == refreshed {
		t.Error("apply mirrored by the old walk after a folder appeared on the target")
	}

	if err := os.RemoveAll(filepath.Join(e.r2, "replica")); err != nil {
		t.Fatal(err)
	}
	refreshed = walkBoth()
	os.MkdirAll(filepath.Join(e.r2, "replica/fs1/srv/repset"), 0o755)
	if w := apply(); w == refreshed {
		t.Error("apply mirrored by the old walk after the missing target folder was made")
	}
}
