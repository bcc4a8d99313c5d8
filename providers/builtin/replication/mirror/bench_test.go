package mirror

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/internal/sshtest"
)

// BenchmarkPlanInSync plans a mirror of 10,000 small files in 100 folders
// that is in sync: the walk of both sides and their comparison, which is
// what an incremental mirror of a large tree mostly costs. Per entry (of
// one side): ns/op / 10,100, allocs/op / 10,100.
func BenchmarkPlanInSync(b *testing.B) {
	dir := b.TempDir()
	for i := range 10000 {
		p := filepath.Join(dir, "fs1/srv/set", fmt.Sprintf("d%02d", i/100), fmt.Sprintf("f%05d", i))
		if i%100 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	fs1, fs2 := host.NewLocal("fs1", filepath.Join(dir, "fs1")), host.NewLocal("fs2", filepath.Join(dir, "fs2"))
	defer fs1.Close()
	defer fs2.Close()
	m, err := New(b.Context(), []Pair{{Source: Endpoint{fs1, "/srv/set"}, Target: Endpoint{fs2, "/replica/set"}}},
		Options{Preserve: PreserveAll, DeleteOrphans: true})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	pl, err := m.Plan(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Apply(b.Context(), pl, nil); err != nil {
		b.Fatal(err)
	}
	for _, guarded := range []bool{false, true} {
		b.Run(fmt.Sprintf("guarded=%v", guarded), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				plan := m.Plan
				if guarded {
					plan = m.PlanGuarded
				}
				pl, err := plan(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				if !pl.Summary.Empty() {
					b.Fatalf("not in sync: %s", pl.Summary)
				}
				pl.Close()
			}
		})
	}
}

// BenchmarkGuardedWalkThroughSSH walks, through a tripwire of the agent,
// a source of 20,000 files in 200 folders (the first-sync benchmark's
// tree, bench/remote.sh) on an SSH host: folder by folder, a call each,
// and in one op call through the tripwire, as a guarded plan does.
func BenchmarkGuardedWalkThroughSSH(b *testing.B) {
	dir := b.TempDir()
	for i := range 20000 {
		p := filepath.Join(dir, "srv/set", fmt.Sprintf("d%03d", i/100), fmt.Sprintf("f%05d", i))
		if i%100 == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s := sshtest.Start(b)
	h, err := ssh.New(b.Context(), ssh.Options{Name: "fs1", Address: s.Addr, User: s.User, IdentityFile: s.Identity,
		KnownHosts: s.KnownHosts, Root: dir, AgentCache: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	e := Endpoint{h, "/srv/set"}
	sub, err := h.Sub(b.Context(), e.Path)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	filter, err := NewFilter(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, oneCall := range []bool{false, true} {
		b.Run(fmt.Sprintf("one-call=%v", oneCall), func(b *testing.B) {
			for b.Loop() {
				tw, err := sub.Tripwire(b.Context(), "/")
				if err != nil {
					b.Fatal(err)
				}
				var t *Tree
				if oneCall {
					t, err = scanWatched(b.Context(), e, sub, tw, ScanRequest{Starts: []string{""}, Parallel: 8})
				} else {
					t, err = walk(b.Context(), sub, []string{""}, walkOptions{filter: filter, parallel: 8, list: tw})
				}
				if err != nil || len(t.folders) != 201 || tw.Tripped() {
					b.Fatalf("%d folders walked, tripped %v: %v", len(t.folders), tw.Tripped(), err)
				}
				tw.Close()
			}
		})
	}
}
