package mirror

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// agent plays a transport whose machine runs ops: each op goes through
// the wire encoding to the host of that machine, as an agent runs it.
// It counts the calls of each op.
type agent struct {
	host.Host
	mu    *sync.Mutex
	calls map[string]int
}

func newAgent(h host.Host) agent { return agent{Host: h, mu: &sync.Mutex{}, calls: map[string]int{}} }

func (a agent) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	a.add(name)
	return host.RunOp(ctx, a.Host, name, req)
}

// Sub keeps the agent, as the SSH transport's Sub hosts do.
func (a agent) Sub(ctx context.Context, p string) (host.Host, error) {
	h, err := a.Host.Sub(ctx, p)
	if err != nil {
		return nil, err
	}
	return agent{Host: h, mu: a.mu, calls: a.calls}, nil
}

// Tripwire keeps the agent: an op called through it runs on the machine
// with the tripwire at hand (host.CallWatched), as through the agent's.
// It counts those calls, and the folders listed through it from here.
func (a agent) Tripwire(ctx context.Context, p string) (host.Tripwire, error) {
	tw, err := a.Host.Tripwire(ctx, p)
	if err != nil {
		return nil, err
	}
	return agentTripwire{Tripwire: tw, a: a}, nil
}

type agentTripwire struct {
	host.Tripwire
	a agent
}

func (t agentTripwire) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	t.a.add("watched " + name)
	return host.RunOp(host.WithTripwire(ctx, t.Tripwire), t.a.Host, name, req)
}

func (t agentTripwire) ReadDirStat(ctx context.Context, p string) ([]host.EntryStat, error) {
	t.a.add("tripwire listing")
	return t.Tripwire.ReadDirStat(ctx, p)
}

func (a agent) add(name string) {
	a.mu.Lock()
	a.calls[name]++
	a.mu.Unlock()
}

func (a agent) count(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[name]
}

// agentless plays a transport that cannot run ops (SFTP alone).
type agentless struct{ host.Host }

// scanTree writes a source tree with what a walk must tell apart.
func scanTree(t *testing.T, e *env) {
	t.Helper()
	for _, p := range []string{"a/b/c/deep.txt", "a/b/two.txt", "a/skip.tmp", "c/d/e.txt", "top.txt", "cache/x.bin",
		".db.img.drover-blocks", ".top.txt.1234.drover-tmp", "a/b/c/ünï\ncode"} {
		write(t, e.src(p), p, t0)
	}
	if err := os.Symlink("../top.txt", e.src("a/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(e.src("top.txt"), e.src("c/hard.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.src("empty"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestScanOnMachine: a walk made on the folder's machine in one op call
// finds what the walk folder by folder finds, every entry with its
// inode and owner, for a whole folder and for subtrees, with the set's
// filter and with Drover's own entries kept or left out; a host that
// cannot run ops is walked folder by folder.
func TestScanOnMachine(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t)
	scanTree(t, e)
	through := newAgent(e.fs1)
	for _, h := range []struct {
		name  string
		h     host.Host
		scans int // op calls per walk
	}{{"local", e.fs1, 0}, {"through an agent", through, 1}, {"without ops", agentless{e.fs1}, 0}} {
		for _, tc := range []struct {
			name   string
			starts []string
			temps  bool
		}{{"whole", []string{""}, false}, {"whole with own entries", []string{""}, true}, {"subtrees", []string{"a/b", "c", "gone"}, false}} {
			t.Run(h.name+"/"+tc.name, func(t *testing.T) {
				m, err := New(ctx, []Pair{{Source: Endpoint{h.h, "/srv/set"}, Target: Endpoint{e.fs2, "/replica/set"}}},
					Options{Preserve: PreserveAll, Exclude: []string{"*.tmp", "cache/"}})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				p := m.pairs[0]
				o := walkOptions{filter: m.filter, parallel: 4, temps: tc.temps}
				want, err := walk(ctx, p.src, tc.starts, walkOptions{filter: m.filter, parallel: 4, temps: tc.temps, list: p.src})
				if err != nil {
					t.Fatal(err)
				}
				before := through.count(scanOp)
				got, err := m.walkSide(ctx, p.Source, p.src, p.ops[0], tc.starts, o, nil)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got, cmp.AllowUnexported(Tree{}), cmpopts.EquateEmpty()); d != "" {
					t.Errorf("the walk differs (-folder by folder +%s):\n%s", h.name, d)
				}
				if got.entry("c/hard.txt") == nil || !got.entry("c/hard.txt").HasStat {
					t.Error("the walk tells no inode of c/hard.txt")
				}
				if n := through.count(scanOp) - before; n != h.scans {
					t.Errorf("%d op calls for one walk, want %d", n, h.scans)
				}
			})
		}
	}
}

// TestScanGone: a scan of a folder gone finds nothing.
func TestScanGone(t *testing.T) {
	e := newEnv(t)
	tree, err := scan(t.Context(), Endpoint{newAgent(e.fs1), "/srv/gone"}, ScanRequest{Starts: []string{""}})
	if err != nil || tree.root != nil || len(tree.Unreadable) != 0 {
		t.Errorf("a folder gone: root %v, unreadable %v, %v", tree.root, tree.Unreadable, err)
	}
}

// TestPlanGuardedThroughAgents: a guarded plan between hosts whose
// tripwires run ops walks each side in one op call through its tripwire,
// which goes on watching the whole tree after: the plan is current until
// a change deep in either side.
func TestPlanGuardedThroughAgents(t *testing.T) {
	for _, side := range []string{"source", "target"} {
		t.Run("a file made deep in the "+side, func(t *testing.T) {
			e := newEnv(t)
			for i := range 40 {
				write(t, e.src("many", strings.Repeat("d", i%7+1), string(rune('a'+i%26)), "f.txt"), "x", t0)
			}
			fs1, fs2 := newAgent(e.fs1), newAgent(e.fs2)
			m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true}, Pair{Source: Endpoint{fs1, "/srv/set"}, Target: Endpoint{fs2, "/replica/set"}})
			e.sync(m)
			pl, err := m.PlanGuarded(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer pl.Close()
			for _, a := range []agent{fs1, fs2} {
				if n, l := a.count("watched "+scanOp), a.count("tripwire listing"); n != 1 || l != 0 {
					t.Errorf("%d walks through the tripwire and %d folders listed through it one by one, want 1 and 0", n, l)
				}
			}
			if !pl.Current(t.Context()) {
				t.Fatal("a plan of a quiet tree is not current")
			}
			root := e.src
			if side == "target" {
				root = e.dst
			}
			write(t, root("many/ddddddd/g/new.txt"), "new", t0)
			if pl.Current(t.Context()) {
				t.Error("a plan is current after a file was made in a folder it walked")
			}
		})
	}
}

// TestMirrorThroughAgents: a mirror between two hosts whose machines run
// ops walks each side in one op call per plan, whatever the number of
// folders, and mirrors as between local hosts (TestPlanGuardedThroughAgents
// has their guarded plans).
func TestMirrorThroughAgents(t *testing.T) {
	e := newEnv(t)
	scanTree(t, e)
	// A source's temp files are never mirrored.
	os.Remove(e.src(".top.txt.1234.drover-tmp"))
	for i := range 40 {
		write(t, e.src("many", strings.Repeat("d", i%7+1), string(rune('a'+i%26)), "f.txt"), "x", t0)
	}
	fs1, fs2 := newAgent(e.fs1), newAgent(e.fs2)
	opts := Options{Preserve: PreserveAll, DeleteOrphans: true}
	m := e.mirror(opts, Pair{Source: Endpoint{fs1, "/srv/set"}, Target: Endpoint{fs2, "/replica/set"}})
	e.sync(m)
	same(t, e.src(), e.dst())
	if got := e.sync(m); len(got) != 0 {
		t.Errorf("second plan: %v", got)
	}
	if n1, n2 := fs1.count(scanOp), fs2.count(scanOp); n1 != 2 || n2 != 1 {
		// The target folder did not exist at the first plan.
		t.Errorf("%d and %d scans of source and target for two plans, want 2 and 1", n1, n2)
	}
	if got := m.WithoutOps(); len(got) != 0 {
		t.Errorf("hosts without ops: %v", got)
	}

	plain := e.mirror(opts, Pair{Source: Endpoint{agentless{e.fs1}, "/srv/set"}, Target: Endpoint{fs2, "/replica/set"}})
	if got := plain.WithoutOps(); !cmp.Equal(got, []string{"fs1"}) {
		t.Errorf("hosts without ops: %v, want fs1", got)
	}
}

// TestLargeFileHashedOnSourceMachine: an in-place update of a large file
// has the source's machine hash it (blocks.sums), so that only the blocks
// that changed cross.
func TestLargeFileHashedOnSourceMachine(t *testing.T) {
	e := newEnv(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	write(t, e.src("disk.img"), string(data), t0)
	fs1, fs2 := newAgent(e.fs1), newAgent(e.fs2)
	m := e.mirror(Options{Preserve: PreserveAll, BlockThreshold: 1 << 20}, Pair{Source: Endpoint{fs1, "/srv/set"}, Target: Endpoint{fs2, "/replica/set"}})
	e.sync(m)
	for i, b := range []string{"A", "B"} {
		copy(data[(i+1)<<20:], bytes.Repeat([]byte(b), 100))
		write(t, e.src("disk.img"), string(data), t0.Add(time.Duration(i+1)*time.Minute))
		e.sync(m)
	}
	same(t, e.src(), e.dst())
	if fs1.count(blocks.SumsOp) == 0 {
		t.Error("the source's machine never hashed the large file")
	}
}
