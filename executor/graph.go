package executor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/planner/dag"
	"github.com/drover-dr/drover/planner/plan"
)

// node of the apply graph: a change (by index into the plan's changes) or
// a barrier that stands for a group of changes of one resource, so that
// resources with many instances cost N+M edges instead of N×M.
type node struct {
	change  int
	barrier barrier
	res     addrs.Resource
}

type barrier byte

const (
	noBarrier barrier = iota
	// upBarrier: every create, update or replace of a resource is done.
	upBarrier
	// allBarrier: every change of a resource is done.
	allBarrier
)

func (n node) String() string {
	switch n.barrier {
	case upBarrier:
		return n.res.String() + " (created or updated)"
	case allBarrier:
		return n.res.String() + " (all changes)"
	}
	return fmt.Sprintf("change %d", n.change)
}

// applyGraph orders the changes of p:
//   - a create, update or replace waits for the creates, updates and
//     replaces of the resources it depends on;
//   - a delete waits for every change of the resources that depend on the
//     deleted one (dependents let go before their dependency goes).
func applyGraph(changes []*plan.Change) *dag.Graph[node] {
	g := dag.New[node]()
	dependents := map[addrs.Resource][]addrs.Resource{}
	seenDep := map[[2]addrs.Resource]bool{}
	for i, c := range changes {
		if c.Action == plan.NoOp {
			continue
		}
		n := node{change: i, res: c.Addr.Resource}
		g.Add(n)
		all := node{barrier: allBarrier, res: c.Addr.Resource}
		g.Add(all)
		g.Connect(all, n)
		if c.Action != plan.Delete {
			up := node{barrier: upBarrier, res: c.Addr.Resource}
			g.Add(up)
			g.Connect(up, n)
		}
		for _, d := range c.Dependencies {
			k := [2]addrs.Resource{d, c.Addr.Resource}
			if !seenDep[k] {
				seenDep[k] = true
				dependents[d] = append(dependents[d], c.Addr.Resource)
			}
		}
	}
	for i, c := range changes {
		if c.Action == plan.NoOp {
			continue
		}
		n := node{change: i, res: c.Addr.Resource}
		if c.Action == plan.Delete {
			for _, dep := range dependents[c.Addr.Resource] {
				if dep == c.Addr.Resource {
					continue
				}
				if all := (node{barrier: allBarrier, res: dep}); g.Has(all) {
					g.Connect(n, all)
				}
			}
			continue
		}
		for _, d := range c.Dependencies {
			if up := (node{barrier: upBarrier, res: d}); g.Has(up) {
				g.Connect(n, up)
			}
		}
	}
	return g
}

// GraphDOT renders the order apply would follow for p, for `drover graph --plan`.
func GraphDOT(p *plan.Plan) string {
	return applyGraph(p.Changes).DOT(func(n node) string {
		if n.barrier != noBarrier {
			return n.String()
		}
		c := p.Changes[n.change]
		return c.Action.String() + " " + c.Addr.String()
	})
}

// runNode is a node of a runbook run's walk: a step, or a join that stands
// for an after list several steps share, so that a wave of N steps each
// after the same M steps costs N+M edges instead of N×M (a count of 100
// after a count of 100: 200 edges, not 10,000, each an entry of a map).
type runNode struct {
	step string
	// join numbers a join from 1; it is 0 for a step.
	join int
}

// runbookGraph orders the steps that run (no Skip): each after the steps
// of its after list that run, through a join where the list is shared.
func runbookGraph(steps []*plan.Step) *dag.Graph[runNode] {
	g := dag.New[runNode]()
	runs := map[string]bool{}
	for _, s := range steps {
		if s.Skip == "" {
			runs[s.Name] = true
			g.Add(runNode{step: s.Name})
		}
	}
	afters, keys := make([][]string, len(steps)), make([]string, len(steps))
	shared := map[string]int{}
	for i, s := range steps {
		if s.Skip != "" {
			continue
		}
		afters[i] = s.After
		if skips := func(a string) bool { return !runs[a] }; slices.ContainsFunc(s.After, skips) {
			afters[i] = slices.DeleteFunc(slices.Clone(s.After), skips)
		}
		if len(afters[i]) > 1 {
			keys[i] = strings.Join(afters[i], "\x00")
			shared[keys[i]]++
		}
	}
	joins := map[string]runNode{}
	for i, s := range steps {
		n, after := runNode{step: s.Name}, afters[i]
		if shared[keys[i]] < 2 {
			for _, a := range after {
				g.Connect(n, runNode{step: a})
			}
			continue
		}
		j, ok := joins[keys[i]]
		if !ok {
			j = runNode{join: len(joins) + 1}
			joins[keys[i]] = j
			for _, a := range after {
				g.Connect(j, runNode{step: a})
			}
		}
		g.Connect(n, j)
	}
	return g
}
