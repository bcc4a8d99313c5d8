package dag

import (
	"fmt"
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
	edges      map[int]struct{}
}

// New returns an empty graph.
func New[K comparable]() *Graph[K] {
	return &Graph[K]{index: map[K]int{}}
}

// Add adds k if it is not there yet.
func (g *Graph[K]) Add(k K) {
	if _, ok := g.index[k]; ok {
		return
	}
	g.index[k] = len(g.nodes)
	g.nodes = append(g.nodes, vertex[K]{key: k})
}

// Has reports whether k is a node.
func (g *Graph[K]) Has(k K) bool {
	_, ok := g.index[k]
	return ok
}

// Connect records that from depends on to: to runs first. Both are added
// if missing; a repeated edge is recorded once.
func (g *Graph[K]) Connect(from, to K) {
	g.Add(from)
	g.Add(to)
	f, t := g.index[from], g.index[to]
	v := &g.nodes[f]
	if v.edges == nil {
		v.edges = map[int]struct{}{}
	}
	if _, ok := v.edges[t]; ok {
		return
	}
	v.edges[t] = struct{}{}
	v.deps = append(v.deps, t)
	g.nodes[t].dependents = append(g.nodes[t].dependents, f)
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

func (g *Graph[K]) selfLoop(v int) bool {
	_, ok := g.nodes[v].edges[v]
	return ok
}

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
