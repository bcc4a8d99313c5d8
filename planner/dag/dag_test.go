package dag

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
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

func TestWalkOrderAndFailures(t *testing.T) {
	// d depends on b and c, both on a; e is independent; f depends on d.
	edges := [][2]string{{"b", "a"}, {"c", "a"}, {"d", "b"}, {"d", "c"}, {"f", "d"}, {"e", ""}}
	tests := []struct {
		name      string
		fail      string
		opts      WalkOptions
		wantRan   []string
		wantError []string
	}{
		{name: "all succeed", wantRan: []string{"a", "b", "c", "d", "e", "f"}},
		{name: "failure skips dependents once", fail: "b", wantRan: []string{"a", "b", "c", "e"}, wantError: []string{"b"}},
		{name: "root failure", fail: "a", wantRan: []string{"a", "e"}, wantError: []string{"a"}},
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
				if k == tt.fail {
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
			if diff := cmp.Diff(tt.wantError, failed); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
		})
	}
}

func unwrapAll(err error) []error {
	if err == nil {
		return nil
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		return m.Unwrap()
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

func TestWalkCancel(t *testing.T) {
	g := New[int]()
	for i := 1; i < 50; i++ {
		g.Connect(i, i-1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	err := g.Walk(ctx, 4, func(_ context.Context, k int) error {
		if ran.Add(1) == 3 {
			cancel()
		}
		return nil
	})
	if ran.Load() != 3 || !errors.Is(err, context.Canceled) {
		t.Fatalf("ran %d, err %v; want 3 and context.Canceled", ran.Load(), err)
	}
}

func TestWalkParallelismBound(t *testing.T) {
	g := New[int]()
	for i := 0; i < 200; i++ {
		g.Add(i)
	}
	var cur, peak atomic.Int32
	g.Walk(context.Background(), 3, func(context.Context, int) error {
		c := cur.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		cur.Add(-1)
		return nil
	})
	if peak.Load() > 3 {
		t.Fatalf("peak concurrency %d > 3", peak.Load())
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
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Fatalf("DOT (-want +got):\n%s", diff)
	}
}

func BenchmarkWalk(b *testing.B) {
	for _, shape := range []string{"independent", "chain"} {
		b.Run(fmt.Sprintf("%s-10000", shape), func(b *testing.B) {
			g := New[int]()
			for i := 0; i < 10000; i++ {
				g.Add(i)
				if shape == "chain" && i > 0 {
					g.Connect(i, i-1)
				}
			}
			b.ResetTimer()
			for range b.N {
				g.Walk(context.Background(), 10, func(context.Context, int) error { return nil })
			}
		})
	}
}
