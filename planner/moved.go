package planner

import (
	"fmt"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
)

// applyMoved gives the objects of s the addresses the configuration's
// moved blocks say. It passes over the blocks until none moves anything
// more, so that a chain (a to b, b to c) may be written in any order. An
// object whose new address is taken stays where it is, with a warning.
// With targets, only objects moving to an address they name move.
func applyMoved(cfg *lang.Config, s *state.State, targets []addrs.Instance) ([]addrs.Move, hcl.Diagnostics) {
	var applied []addrs.Move
	var diags hcl.Diagnostics
	warned := map[addrs.Instance]bool{}
	for range cfg.Moved {
		progress := false
		for _, m := range cfg.Moved {
			var moves []addrs.Move
			for _, mv := range expandMoved(m, s) {
				if !targeted(targets, mv.To) {
					continue
				}
				if s.Instance(mv.To) == nil {
					moves = append(moves, mv)
					continue
				}
				if !warned[mv.From] {
					warned[mv.From] = true
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Object not moved",
						Detail: fmt.Sprintf("%s stays where it is: the state already holds an object at %s. "+
							"Remove one of them from the state (`drover state rm`) if the moved block is right.", mv.From, mv.To),
						Subject: m.DeclRange.Ptr()})
				}
			}
			if done := s.ApplyMoves(moves); len(done) > 0 {
				progress = true
				applied = append(applied, done...)
			}
		}
		if !progress {
			break
		}
	}
	return applied, diags
}

// expandMoved lists the objects of s a moved block moves: every instance
// of a resource moved whole, under its key, or the one instance named.
func expandMoved(m *lang.Moved, s *state.State) []addrs.Move {
	if !m.Resources() {
		if s.Instance(m.From) == nil {
			return nil
		}
		return []addrs.Move{{From: m.From, To: m.To}}
	}
	var out []addrs.Move
	for _, inst := range s.Resource(m.From.Resource) {
		out = append(out, addrs.Move{From: inst.Addr, To: m.To.Resource.Instance(inst.Addr.Key)})
	}
	return out
}

// markMoved notes on each change of a moved object where it was.
func markMoved(changes []*plan.Change, moved []addrs.Move) {
	if len(moved) == 0 {
		return
	}
	// A chain moves an object more than once: it was first at the start.
	origin := map[addrs.Instance]addrs.Instance{}
	for _, m := range moved {
		from := m.From
		if o, ok := origin[m.From]; ok {
			from = o
			delete(origin, m.From)
		}
		origin[m.To] = from
	}
	for _, c := range changes {
		if from, ok := origin[c.Addr]; ok {
			c.MovedFrom = &from
		}
	}
}

// movedStillDeclared reports the moved blocks that move an instance of
// addr which its count or for_each still declares: that object cannot be
// both where it was and where it moved.
func (r *run) movedStillDeclared(addr addrs.Resource, exp expansion) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, m := range r.cfg.Moved {
		if m.From.Resource != addr || m.Resources() {
			continue
		}
		for _, k := range exp.keys {
			if k == m.From.Key {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Moved object still exists",
					Detail: fmt.Sprintf("This block moves %s, but the configuration still declares it (its count or for_each). "+
						"Change the count or for_each, or move another instance.", m.From),
					Subject: m.DeclRange.Ptr()})
			}
		}
	}
	return diags
}
