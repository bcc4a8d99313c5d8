package mirror

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
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
