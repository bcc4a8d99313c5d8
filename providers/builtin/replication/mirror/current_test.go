package mirror

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/sshtest"
)

// TestPlanCurrent checks that a guarded plan is current only while
// nothing changed on either side since its walk.
func TestPlanCurrent(t *testing.T) {
	cases := []struct {
		name     string
		mirrored bool // the target was mirrored before the plan
		setup    func(e *env)
		change   func(e *env)
		current  bool
	}{
		{"nothing changed", true, nil, func(*env) {}, true},
		{"nothing changed, target still missing", false, nil, func(*env) {}, true},
		{"a source file written", true, nil, func(e *env) { write(t, e.src("d/f"), "changed", time.Time{}) }, false},
		{"a source folder made", true, nil, func(e *env) { os.Mkdir(e.src("d/new"), 0o755) }, false},
		{"a target file written", true, nil, func(e *env) { write(t, e.dst("d/f"), "changed", time.Time{}) }, false},
		{"a target file removed", true, nil, func(e *env) { os.Remove(e.dst("top")) }, false},
		{"the missing target made", false, nil, func(e *env) { os.MkdirAll(e.dst(), 0o755) }, false},
		{"a source file with a link outside", true, func(e *env) {
			if err := os.Link(e.src("d/f"), filepath.Join(e.r1, "outside")); err != nil {
				t.Fatal(err)
			}
		}, func(*env) {}, false},
		{"a file written outside", true, nil, func(e *env) { write(t, filepath.Join(e.r1, "elsewhere"), "x", time.Time{}) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			write(t, e.src("top"), "top", time.Time{})
			write(t, e.src("d/f"), "file", time.Time{})
			if c.setup != nil {
				c.setup(e)
			}
			m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true})
			if c.mirrored {
				e.sync(m)
			}
			if got := currentAfter(t, m, func() { c.change(e) }); got != c.current {
				t.Errorf("Current() = %v, want %v", got, c.current)
			}
		})
	}

	t.Run("unguarded or closed", func(t *testing.T) {
		e := newEnv(t)
		write(t, e.src("top"), "top", time.Time{})
		m := e.mirror(Options{})
		pl, err := m.Plan(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if pl.Current(t.Context()) {
			t.Error("an unguarded plan claims to be current")
		}
		pl, err = m.PlanGuarded(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pl.Close()
		if pl.Current(t.Context()) {
			t.Error("a closed plan claims to be current")
		}
	})
}

// TestPlanCurrentThroughSSH: a guarded plan between two SSH hosts whose
// machines run the agent walks each side in one call through the agent's
// tripwire, which goes on watching there: current until a change in any
// folder walked, however deep.
func TestPlanCurrentThroughSSH(t *testing.T) {
	s := sshtest.Start(t)
	cases := []struct {
		name    string
		change  func(e *env)
		current bool
	}{
		{"nothing changed", func(*env) {}, true},
		{"a deep source file written", func(e *env) { write(t, e.src("a/b/c/f"), "changed", time.Time{}) }, false},
		{"a deep source folder made", func(e *env) { os.Mkdir(e.src("a/b/c/new"), 0o755) }, false},
		{"a deep target file removed", func(e *env) { os.Remove(e.dst("a/b/c/f")) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			write(t, e.src("top"), "top", time.Time{})
			write(t, e.src("a/b/c/f"), "file", time.Time{})
			m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true}, agentPairOn(t, e, s))
			e.sync(m)
			if got := currentAfter(t, m, func() { c.change(e) }); got != c.current {
				t.Errorf("Current() = %v, want %v", got, c.current)
			}
		})
	}
}

// currentAfter plans m guarded, makes change, and says whether the plan
// is still current.
func currentAfter(t *testing.T, m *Mirror, change func()) bool {
	t.Helper()
	pl, err := m.PlanGuarded(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	change()
	return pl.Current(t.Context())
}
