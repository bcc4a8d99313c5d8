package dag

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Graph is a directed graph over comparable keys.
type Graph[K comparable] struct {
	index map[K]int
	nodes []vertex[K]
}

type vertex[K comparable] struct {
	key        K
	deps       []int
	dependents []int
	// seen marks the dependencies of a node with more than scanDeps of
	// them, for telling a repeated edge (fewer are scanned): one bit per
	// node index from seenBase on, as the dependencies of a step of a
	// runbook are mostly steps declared together. Nil for the others.
	seen     []uint64
	seenBase int
}

// scanDeps is how many dependencies a node holds before a bit set tells
// whether an edge repeats: below it a scan is cheaper. A runbook of waves
// of 100 steps, each after the whole wave before, has 90,000 edges over
// 1,000 nodes; a map of edges per node was most of what building it
// allocated.
const scanDeps = 16

// New returns an empty graph.
func New[K comparable]() *Graph[K] {
	return &Graph[K]{index: map[K]int{}}
}

// Add adds k if it is not there yet.
func (g *Graph[K]) Add(k K) { g.add(k) }

// add adds k if it is not there yet and returns its index.
func (g *Graph[K]) add(k K) int {
	if i, ok := g.index[k]; ok {
		return i
	}
	i := len(g.nodes)
	g.index[k] = i
	g.nodes = append(g.nodes, vertex[K]{key: k})
	return i
}

// Has reports whether k is a node.
func (g *Graph[K]) Has(k K) bool {
	_, ok := g.index[k]
	return ok
}

// Connect records that from depends on to: to runs first. Both are added
// if missing; a repeated edge is recorded once.
func (g *Graph[K]) Connect(from, to K) {
	f, t := g.add(from), g.add(to)
	v := &g.nodes[f]
	if v.hasDep(t) {
		return
	}
	v.deps = append(v.deps, t)
	switch {
	case len(v.deps) == scanDeps+1:
		v.seenBase = slices.Min(v.deps) &^ 63
		for _, d := range v.deps {
			v.mark(d)
		}
	case len(v.deps) > scanDeps:
		v.mark(t)
	}
	g.nodes[t].dependents = append(g.nodes[t].dependents, f)
}

// hasDep reports whether the node depends on node t.
func (v *vertex[K]) hasDep(t int) bool {
	if len(v.deps) <= scanDeps {
		return slices.Contains(v.deps, t)
	}
	i := t - v.seenBase
	return i >= 0 && i/64 < len(v.seen) && v.seen[i/64]&(1<<(i%64)) != 0
}

// mark records t among the dependencies in the bit set, growing it at
// either end to cover t.
func (v *vertex[K]) mark(t int) {
	if t < v.seenBase {
		shift := (v.seenBase - t + 63) / 64
		v.seen = append(make([]uint64, shift, shift+len(v.seen)), v.seen...)
		v.seenBase -= shift * 64
	}
	i := t - v.seenBase
	if w := i / 64; w >= len(v.seen) {
		v.seen = append(v.seen, make([]uint64, w+1-len(v.seen))...)
	}
	v.seen[i/64] |= 1 << (i % 64)
}

// DependsOn lists what k depends on, in the order the edges were made;
// nothing when k is not a node.
func (g *Graph[K]) DependsOn(k K) []K {
	i, ok := g.index[k]
	if !ok {
		return nil
	}
	return g.keys(g.nodes[i].deps)
}

func (g *Graph[K]) keys(ids []int) []K {
	out := make([]K, len(ids))
	for i, id := range ids {
		out[i] = g.nodes[id].key
	}
	return out
}

// Cycles lists the strongly connected components that form cycles (more
// than one node, or a node depending on itself), each in the order its
// members were added, and the cycles in the order of their first member.
func (g *Graph[K]) Cycles() [][]K {
	n := len(g.nodes)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var sccs [][]int
	next := 0
	// Iterative Tarjan: a frame is a node and how many of its edges are done.
	type frame struct{ v, edge int }
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{v: root}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			deps := g.nodes[f.v].deps
			if f.edge < len(deps) {
				w := deps[f.edge]
				f.edge++
				switch {
				case index[w] < 0:
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{v: w})
				case onStack[w]:
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] != index[v] {
				continue
			}
			if stack[len(stack)-1] == v && !g.selfLoop(v) {
				stack = stack[:len(stack)-1]
				onStack[v] = false
				continue
			}
			var scc []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				scc = append(scc, w)
				if w == v {
					break
				}
			}
			if len(scc) > 1 || g.selfLoop(v) {
				sort.Ints(scc)
				sccs = append(sccs, scc)
			}
		}
	}
	sort.Slice(sccs, func(i, j int) bool { return sccs[i][0] < sccs[j][0] })
	out := make([][]K, len(sccs))
	for i, scc := range sccs {
		out[i] = g.keys(scc)
	}
	return out
}

func (g *Graph[K]) selfLoop(v int) bool { return g.nodes[v].hasDep(v) }

// DOT renders the graph in Graphviz's language, nodes and edges sorted by
// name so the output diffs cleanly.
func (g *Graph[K]) DOT(name func(K) string) string {
	names := make([]string, len(g.nodes))
	for i, v := range g.nodes {
		names[i] = name(v.key)
	}
	var nodeLines, edgeLines []string
	for i, v := range g.nodes {
		nodeLines = append(nodeLines, fmt.Sprintf("  %q;", names[i]))
		for _, d := range v.deps {
			edgeLines = append(edgeLines, fmt.Sprintf("  %q -> %q;", names[i], names[d]))
		}
	}
	sort.Strings(nodeLines)
	sort.Strings(edgeLines)
	var b strings.Builder
	b.WriteString("digraph drover {\n  rankdir = \"RL\";\n")
	for _, l := range nodeLines {
		b.WriteString(l + "\n")
	}
	for _, l := range edgeLines {
		b.WriteString(l + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}
