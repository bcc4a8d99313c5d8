package dag

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-multierror"
)

var update = flag.Bool("update", false, "rewrite golden files")

func build(edges [][2]string) *Graph[string] {
	g := New[string]()
	for _, e := range edges {
		if e[1] == "" {
			g.Add(e[0])
			continue
		}
		g.Connect(e[0], e[1])
	}
	return g
}

func TestCycles(t *testing.T) {
	tests := []struct {
		name  string
		edges [][2]string
		want  [][]string
	}{
		{name: "none", edges: [][2]string{{"a", "b"}, {"b", "c"}, {"a", "c"}}, want: [][]string{}},
		{name: "self loop", edges: [][2]string{{"a", "a"}, {"b", "a"}}, want: [][]string{{"a"}}},
		{name: "two nodes", edges: [][2]string{{"a", "b"}, {"b", "a"}, {"c", "a"}}, want: [][]string{{"a", "b"}}},
		{name: "two cycles", edges: [][2]string{{"a", "b"}, {"b", "a"}, {"c", "d"}, {"d", "e"}, {"e", "c"}, {"c", "a"}},
			want: [][]string{{"a", "b"}, {"c", "d", "e"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := build(tt.edges).Cycles()
			if got == nil {
				got = [][]string{}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("cycles (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConnectRepeated: a repeated edge is recorded once however many
// dependencies a node has (a few are scanned, more are kept in a bit set
// that grows at both ends), in the order the edges were first made.
func TestConnectRepeated(t *testing.T) {
	for _, n := range []int{3, scanDeps, scanDeps + 1, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			g := New[int]()
			for i := range 2 * n {
				g.Add(i)
			}
			var want []int
			// From the middle outwards, so that later dependencies lie
			// below and above the first ones; then all of them again.
			for i := range n {
				d := n + i/2
				if i%2 == 1 {
					d = n - 1 - i/2
				}
				g.Connect(-1, d)
				want = append(want, d)
			}
			for d := 2*n - 1; d >= 0; d-- {
				g.Connect(-1, d)
				if !slices.Contains(want, d) {
					want = append(want, d)
				}
			}
			for _, d := range want {
				g.Connect(-1, d)
			}
			if diff := cmp.Diff(want, g.DependsOn(-1)); diff != "" {
				t.Fatalf("dependencies (-want +got):\n%s", diff)
			}
			if c := g.Cycles(); len(c) != 0 {
				t.Fatalf("cycles %v, want none", c)
			}
			g.Connect(-1, -1)
			if diff := cmp.Diff([][]int{{-1}}, g.Cycles()); diff != "" {
				t.Fatalf("self loop (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWalkOrderAndFailures(t *testing.T) {
	// d depends on b and c, both on a; e is independent; f depends on d.
	edges := [][2]string{{"b", "a"}, {"c", "a"}, {"d", "b"}, {"d", "c"}, {"f", "d"}, {"e", ""}}
	tests := []struct {
		name      string
		fail      []string
		opts      WalkOptions
		wantRan   []string
		wantError []string
	}{
		{name: "all succeed", wantRan: []string{"a", "b", "c", "d", "e", "f"}},
		{name: "failure skips dependents once", fail: []string{"b"}, wantRan: []string{"a", "b", "c", "e"}, wantError: []string{"b"}},
		{name: "two failures skip a shared dependent once", fail: []string{"b", "c"}, wantRan: []string{"a", "b", "c", "e"}, wantError: []string{"b", "c"}},
		{name: "root failure", fail: []string{"a"}, wantRan: []string{"a", "e"}, wantError: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(edges)
			var mu sync.Mutex
			finished := map[string]bool{}
			var ran []string
			err := g.WalkWith(context.Background(), 2, tt.opts, func(_ context.Context, k string) error {
				mu.Lock()
				defer mu.Unlock()
				for _, d := range g.DependsOn(k) {
					if !finished[d] {
						t.Errorf("%s ran before its dependency %s", k, d)
					}
				}
				ran = append(ran, k)
				if slices.Contains(tt.fail, k) {
					return errors.New("boom")
				}
				finished[k] = true
				return nil
			})
			sort.Strings(ran)
			if diff := cmp.Diff(tt.wantRan, ran); diff != "" {
				t.Errorf("ran (-want +got):\n%s", diff)
			}
			var failed []string
			for _, e := range unwrapAll(err) {
				var ne *NodeError[string]
				if errors.As(e, &ne) {
					failed = append(failed, ne.Node)
				}
			}
			sort.Strings(failed)
			if diff := cmp.Diff(tt.wantError, failed); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
		})
	}
}

func unwrapAll(err error) []error {
	var m *multierror.Error
	if errors.As(err, &m) {
		return m.Errors
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func TestWalkStopOnError(t *testing.T) {
	g := New[int]()
	for i := 0; i < 100; i++ {
		g.Add(i)
	}
	var ran atomic.Int32
	err := g.WalkWith(context.Background(), 1, WalkOptions{StopOnError: true}, func(_ context.Context, k int) error {
		ran.Add(1)
		return errors.New("stop")
	})
	if err == nil || ran.Load() != 1 {
		t.Fatalf("ran %d nodes, err %v; want 1 node and an error", ran.Load(), err)
	}
}

// TestWalkStopOnErrorLetsRunningFinish fails node 0 while node 1 runs: 1
// must finish, and nothing else may start.
func TestWalkStopOnErrorLetsRunningFinish(t *testing.T) {
	g := New[int]()
	for i := 0; i < 10; i++ {
		g.Add(i)
	}
	failed := make(chan struct{})
	var ran []int
	var mu sync.Mutex
	err := g.WalkWith(context.Background(), 2, WalkOptions{StopOnError: true}, func(_ context.Context, k int) error {
		mu.Lock()
		ran = append(ran, k)
		mu.Unlock()
		switch k {
		case 0:
			defer close(failed)
			return errors.New("boom")
		case 1:
			<-failed
		}
		return nil
	})
	sort.Ints(ran)
	if diff := cmp.Diff([]int{0, 1}, ran); diff != "" {
		t.Errorf("ran (-want +got):\n%s", diff)
	}
	if got := len(unwrapAll(err)); got != 1 {
		t.Errorf("got %d errors (%v), want the one failure", got, err)
	}
}

func TestWalkSkipsLongChainAfterFailure(t *testing.T) {
	g := New[int]()
	for i := 1; i < 10000; i++ {
		g.Connect(i, i-1)
	}
	var ran atomic.Int32
	err := g.Walk(context.Background(), 0, func(_ context.Context, k int) error {
		ran.Add(1)
		if k == 10 {
			return errors.New("boom")
		}
		return nil
	})
	if ran.Load() != 11 || len(unwrapAll(err)) != 1 {
		t.Fatalf("ran %d, err %v; want 11 nodes and one failure", ran.Load(), err)
	}
}

func TestWalkCancel(t *testing.T) {
	tests := []struct {
		name  string
		chain bool
	}{
		{name: "chain", chain: true},
		{name: "independent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New[int]()
			for i := 0; i < 50; i++ {
				g.Add(i)
				if tt.chain && i > 0 {
					g.Connect(i, i-1)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var ran atomic.Int32
			// With one slot, the node that cancels is the last to start.
			err := g.Walk(ctx, 1, func(_ context.Context, k int) error {
				if ran.Add(1) == 3 {
					cancel()
				}
				return nil
			})
			if ran.Load() != 3 || !errors.Is(err, context.Canceled) {
				t.Fatalf("ran %d, err %v; want 3 and context.Canceled", ran.Load(), err)
			}
		})
	}
}

// TestWalkCancelRunningFinish cancels while several nodes run: they all
// finish, their failures are kept beside the cancellation, and nothing
// else starts.
func TestWalkCancelRunningFinish(t *testing.T) {
	g := New[int]()
	for i := 0; i < 20; i++ {
		g.Add(i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started, finished atomic.Int32
	err := g.Walk(ctx, 4, func(ctx context.Context, k int) error {
		if started.Add(1) == 4 {
			cancel()
		}
		<-ctx.Done()
		finished.Add(1)
		return errors.New("interrupted")
	})
	if started.Load() != 4 || finished.Load() != 4 {
		t.Fatalf("started %d, finished %d; want 4 and 4", started.Load(), finished.Load())
	}
	if !errors.Is(err, context.Canceled) || len(unwrapAll(err)) != 5 {
		t.Fatalf("err %v; want 4 node failures and context.Canceled", err)
	}
}

// TestWalkParallelism holds every node until the bound is reached, so the
// walk must reach it and never pass it.
func TestWalkParallelism(t *testing.T) {
	tests := []struct {
		name        string
		nodes       int
		parallelism int
		want        int32
	}{
		{name: "bounded", nodes: 200, parallelism: 3, want: 3},
		{name: "unlimited", nodes: 100, parallelism: 0, want: 100},
		{name: "bound above size", nodes: 5, parallelism: 50, want: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New[int]()
			for i := 0; i < tt.nodes; i++ {
				g.Add(i)
			}
			var cur, peak atomic.Int32
			err := g.Walk(context.Background(), tt.parallelism, func(context.Context, int) error {
				defer cur.Add(-1)
				c := cur.Add(1)
				for {
					p := peak.Load()
					if c <= p || peak.CompareAndSwap(p, c) {
						break
					}
				}
				deadline := time.Now().Add(5 * time.Second)
				for peak.Load() < tt.want {
					if time.Now().After(deadline) {
						return fmt.Errorf("only %d of %d running at once", peak.Load(), tt.want)
					}
					runtime.Gosched()
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if peak.Load() != tt.want {
				t.Fatalf("peak concurrency %d, want %d", peak.Load(), tt.want)
			}
		})
	}
}

func TestWalkEmpty(t *testing.T) {
	if err := New[int]().Walk(context.Background(), 0, func(context.Context, int) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestWalkCycleReported(t *testing.T) {
	g := build([][2]string{{"a", "b"}, {"b", "a"}})
	if err := g.Walk(context.Background(), 0, func(context.Context, string) error { return nil }); err == nil {
		t.Fatal("walking a cycle must fail")
	}
}

func TestDOT(t *testing.T) {
	got := build([][2]string{{"value.b", "value.a"}, {"output.x", "value.b"}, {"var.v", ""}}).DOT(func(s string) string { return s })
	golden := filepath.Join("testdata", "graph.dot")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Fatalf("DOT (-want +got):\n%s", diff)
	}
}

// BenchmarkWalk measures the walker's own overhead on 10,000 nodes that
// do nothing, independent or in one chain, with the planner's default
// bound, the executor's, and none.
func BenchmarkWalk(b *testing.B) {
	for _, shape := range []string{"independent", "chain"} {
		g := New[int]()
		for i := 0; i < 10000; i++ {
			g.Add(i)
			if shape == "chain" && i > 0 {
				g.Connect(i, i-1)
			}
		}
		for _, parallelism := range []int{10, 40, 0} {
			b.Run(fmt.Sprintf("%s-10000/parallelism=%d", shape, parallelism), func(b *testing.B) {
				for range b.N {
					if err := g.Walk(context.Background(), parallelism, func(context.Context, int) error { return nil }); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkCycles(b *testing.B) {
	g := New[int]()
	for i := 1; i < 10000; i++ {
		g.Connect(i, i-1)
	}
	for range b.N {
		g.Cycles()
	}
}

// BenchmarkConnect builds the graph of a flat runbook: 10 waves of 100
// nodes, each node after every node of the wave before (90,000 edges).
func BenchmarkConnect(b *testing.B) {
	const waves, width = 10, 100
	b.ReportAllocs()
	for b.Loop() {
		g := New[int]()
		for w := range waves {
			for i := range width {
				g.Add(w*width + i)
				if w == 0 {
					continue
				}
				for j := range width {
					g.Connect(w*width+i, (w-1)*width+j)
				}
			}
		}
	}
}
