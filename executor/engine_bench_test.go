package executor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drover-dr/drover/planner"
)

// shapeConfig writes one of the benchmark shapes of bench/core.sh.
func shapeConfig(shape string, n int) string {
	var b strings.Builder
	switch shape {
	case "count":
		fmt.Fprintf(&b, "resource \"value\" \"r\" {\n  count = %d\n  input = \"v${count.index}\"\n}\n", n)
	case "blocks":
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "resource \"value\" \"r%d\" {\n  input = \"v%d\"\n}\n", i, i)
		}
	case "chain":
		b.WriteString("resource \"value\" \"r0\" {\n  input = \"start\"\n}\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "resource \"value\" \"r%d\" {\n  input = value.r%d.output\n}\n", i, i-1)
		}
	}
	return b.String()
}

// BenchmarkEngine plans and applies each shape in-process, then plans
// again on the applied state: the engine's own cost, without plugins.
func BenchmarkEngine(b *testing.B) {
	for _, tc := range []struct {
		shape string
		n     int
	}{{"count", 10000}, {"blocks", 10000}, {"chain", 1000}} {
		b.Run(fmt.Sprintf("%s-%d", tc.shape, tc.n), func(b *testing.B) {
			for range b.N {
				e := newEngine(b)
				e.apply(shapeConfig(tc.shape, tc.n), planner.Options{})
				p, _, diags := e.plan(planner.Options{})
				if diags.HasErrors() || p.HasChanges() {
					b.Fatalf("no-op plan: %v %v", diags, p.HasChanges())
				}
			}
		})
	}
}
