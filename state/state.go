package state

import (
	"sort"

	"github.com/drover-dr/drover/addrs"
	"github.com/zclconf/go-cty/cty"
)

// FormatVersion is the version of the JSON document this package writes.
const FormatVersion = 1

// Status of a resource instance object.
type Status string

const (
	// Ready: the object exists and matches Attrs as of the last apply or refresh.
	Ready Status = "ready"
	// Tainted: the object exists but is not trusted (failed create, failed
	// verification); the next plan replaces it.
	Tainted Status = "tainted"
	// Pending: an apply began creating or changing the object and did not
	// record the end; the next plan reads it to learn what is real.
	Pending Status = "pending"
)

// State is everything Drover tracks for one configuration.
type State struct {
	Lineage   string
	Serial    uint64
	Instances map[addrs.Instance]*Instance
	Outputs   map[string]Output
	// Runbooks are the runbook runs in progress or in force, by runbook
	// name (runbook.go).
	Runbooks map[string]*Runbook
}

// Instance is one resource instance object.
type Instance struct {
	Addr          addrs.Instance
	Provider      string
	SchemaVersion int64
	Status        Status
	// Attrs is an object value of the resource type's implied type.
	Attrs cty.Value
	// Private is opaque provider data kept alongside Attrs.
	Private []byte
	// SensitivePaths are redacted in every output except the state file.
	SensitivePaths []cty.Path
	// Dependencies are the direct dependencies only, never their ancestors:
	// storing ancestors makes state grow quadratically on chains.
	Dependencies        []addrs.Resource
	CreateBeforeDestroy bool
}

// Output is a root output value.
type Output struct {
	Value     cty.Value
	Sensitive bool
}

// New returns an empty state with a fresh lineage.
func New() *State {
	return &State{
		Lineage:   NewLineage(),
		Instances: map[addrs.Instance]*Instance{},
		Outputs:   map[string]Output{},
	}
}

// Instance returns the object at addr, or nil.
func (s *State) Instance(addr addrs.Instance) *Instance {
	if s == nil {
		return nil
	}
	return s.Instances[addr]
}

// Set records inst under its address, replacing what was there.
func (s *State) Set(inst *Instance) {
	s.Instances[inst.Addr] = inst
}

// Remove forgets the object at addr.
func (s *State) Remove(addr addrs.Instance) {
	delete(s.Instances, addr)
}

// Move re-addresses an object; it reports false when from is absent or to
// is taken.
func (s *State) Move(from, to addrs.Instance) bool {
	inst, ok := s.Instances[from]
	if !ok {
		return false
	}
	if _, taken := s.Instances[to]; taken {
		return false
	}
	delete(s.Instances, from)
	inst.Addr = to
	s.Instances[to] = inst
	return true
}

// MoveResource re-addresses every instance of from to the same key of to,
// and points the dependencies of other instances on from at to. It
// reports false, changing nothing, when from has no instances or to has
// any.
func (s *State) MoveResource(from, to addrs.Resource) bool {
	insts := s.Resource(from)
	if len(insts) == 0 || len(s.Resource(to)) > 0 {
		return false
	}
	moves := make([]addrs.Move, len(insts))
	for i, inst := range insts {
		moves[i] = addrs.Move{From: inst.Addr, To: to.Instance(inst.Addr.Key)}
	}
	s.ApplyMoves(moves)
	return true
}

// ApplyMoves re-addresses objects as moves say, in turn: each move whose
// From is in s and whose To is free. When every object of a resource has
// moved to one other resource, the dependencies of other instances on it
// follow. It returns the moves applied.
func (s *State) ApplyMoves(moves []addrs.Move) []addrs.Move {
	var applied []addrs.Move
	type pair struct{ from, to addrs.Resource }
	var pairs []pair
	targets := map[addrs.Resource]map[addrs.Resource]bool{}
	for _, m := range moves {
		if !s.Move(m.From, m.To) {
			continue
		}
		applied = append(applied, m)
		if m.From.Resource == m.To.Resource {
			continue
		}
		if targets[m.From.Resource] == nil {
			targets[m.From.Resource] = map[addrs.Resource]bool{}
		}
		if !targets[m.From.Resource][m.To.Resource] {
			targets[m.From.Resource][m.To.Resource] = true
			pairs = append(pairs, pair{m.From.Resource, m.To.Resource})
		}
	}
	for _, p := range pairs {
		if len(targets[p.from]) != 1 || len(s.Resource(p.from)) > 0 {
			continue
		}
		for _, inst := range s.Instances {
			for i, d := range inst.Dependencies {
				if d == p.from {
					inst.Dependencies[i] = p.to
				}
			}
		}
	}
	return applied
}

// SetOutput records a root output.
func (s *State) SetOutput(name string, o Output) { s.Outputs[name] = o }

// Providers lists the providers the instances name, each once.
func (s *State) Providers() []string {
	seen := map[string]bool{}
	var names []string
	for _, inst := range s.Instances {
		if !seen[inst.Provider] {
			seen[inst.Provider] = true
			names = append(names, inst.Provider)
		}
	}
	return names
}

// SortedAddrs lists the instance addresses in canonical order.
func (s *State) SortedAddrs() []addrs.Instance {
	out := make([]addrs.Instance, 0, len(s.Instances))
	for a := range s.Instances {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// Resource lists the instances of one resource in canonical order.
func (s *State) Resource(r addrs.Resource) []*Instance {
	var out []*Instance
	for a, inst := range s.Instances {
		if a.Resource == r {
			out = append(out, inst)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	return out
}

// DeepCopy returns a State that shares nothing mutable with s. cty values
// are immutable and are shared.
func (s *State) DeepCopy() *State {
	if s == nil {
		return nil
	}
	c := &State{Lineage: s.Lineage, Serial: s.Serial,
		Instances: make(map[addrs.Instance]*Instance, len(s.Instances)),
		Outputs:   make(map[string]Output, len(s.Outputs))}
	for a, inst := range s.Instances {
		cp := *inst
		cp.Private = append([]byte(nil), inst.Private...)
		cp.SensitivePaths = append([]cty.Path(nil), inst.SensitivePaths...)
		cp.Dependencies = append([]addrs.Resource(nil), inst.Dependencies...)
		c.Instances[a] = &cp
	}
	for k, v := range s.Outputs {
		c.Outputs[k] = v
	}
	if len(s.Runbooks) > 0 {
		c.Runbooks = make(map[string]*Runbook, len(s.Runbooks))
		for n, rb := range s.Runbooks {
			c.Runbooks[n] = rb.copy()
		}
	}
	return c
}
