package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Runbook is a runbook run the state remembers: in progress (a run that
// stopped before its end is continued by the next) or, once Done, in
// force, with what its steps hold until a failback gives it back.
type Runbook struct {
	Name  string
	RunID string
	// Kind is what the run was for: failover, failback or run.
	Kind string
	// Done is set once every step of the run finished.
	Done  bool
	Steps map[string]*RunbookStep
}

// StepStatus is where a step of a recorded run stands.
type StepStatus string

const (
	// StepStarted: the step was about to act when this was recorded, and
	// no outcome followed: it was interrupted, and may have acted.
	StepStarted   StepStatus = "started"
	StepSucceeded StepStatus = "succeeded"
	StepFailed    StepStatus = "failed"
)

// RunbookStep is one step of a recorded run.
type RunbookStep struct {
	Status StepStatus
	// Release, when set, is what the step holds while the runbook is in
	// force: the provider action that gives it back.
	Release *Release
}

// Release is what gives back what a step took: a provider action that
// reverses it (the registry undo file to import, the boot default to
// restore), or the step's resources, destroyed.
type Release struct {
	Summary  string
	Provider string
	Action   string
	Args     cty.Value
	// Resources are the addresses of the step's resources in the state.
	Resources []string
}

// RunbookEntry is a journal entry about a runbook run: a step's status
// (Step set), the run's end (Done), or the run let go (Removed: a failback
// gave back everything it held).
type RunbookEntry struct {
	Name    string
	RunID   string
	Kind    string
	Step    string
	Status  StepStatus
	Release *Release
	Done    bool
	Removed bool
}

// RecordRunbook makes the change e records.
func (s *State) RecordRunbook(e RunbookEntry) {
	if s.Runbooks == nil {
		s.Runbooks = map[string]*Runbook{}
	}
	if e.Removed {
		delete(s.Runbooks, e.Name)
		return
	}
	rb := s.Runbooks[e.Name]
	if rb == nil || rb.RunID != e.RunID {
		rb = &Runbook{Name: e.Name, RunID: e.RunID, Kind: e.Kind, Steps: map[string]*RunbookStep{}}
		s.Runbooks[e.Name] = rb
	}
	if e.Done {
		rb.Done = true
	}
	if e.Step != "" {
		st := rb.Steps[e.Step]
		if st == nil {
			st = &RunbookStep{}
			rb.Steps[e.Step] = st
		}
		st.Status = e.Status
		if e.Release != nil {
			st.Release = e.Release
		}
	}
}

// SortedRunbooks lists the recorded runs by runbook name.
func (s *State) SortedRunbooks() []*Runbook {
	out := make([]*Runbook, 0, len(s.Runbooks))
	for _, rb := range s.Runbooks {
		out = append(out, rb)
	}
	slices.SortFunc(out, func(a, b *Runbook) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// SortedSteps lists the step names of rb in name order.
func (rb *Runbook) SortedSteps() []string {
	names := make([]string, 0, len(rb.Steps))
	for n := range rb.Steps {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (rb *Runbook) copy() *Runbook {
	c := *rb
	c.Steps = make(map[string]*RunbookStep, len(rb.Steps))
	for n, st := range rb.Steps {
		cp := *st
		if st.Release != nil {
			rel := *st.Release
			rel.Resources = slices.Clone(st.Release.Resources)
			cp.Release = &rel
		}
		c.Steps[n] = &cp
	}
	return &c
}

// The runbooks of the state document, after its outputs, left out when
// there are none:
//
//	"runbooks": [{"name": "failover", "run_id": "...", "kind": "failover",
//	  "done": true, "steps": {"registry": {"status": "succeeded",
//	  "release": {"summary": "...", "provider": "registry",
//	  "action": "registry_import", "args": {"type": T, "value": V}}}}}]
type docRunbook struct {
	Name  string                    `json:"name"`
	RunID string                    `json:"run_id"`
	Kind  string                    `json:"kind,omitempty"`
	Done  bool                      `json:"done,omitempty"`
	Steps map[string]docRunbookStep `json:"steps"`
}

type docRunbookStep struct {
	Status  StepStatus  `json:"status"`
	Release *docRelease `json:"release,omitempty"`
}

type docRelease struct {
	Summary   string    `json:"summary"`
	Provider  string    `json:"provider,omitempty"`
	Action    string    `json:"action,omitempty"`
	Args      *docValue `json:"args,omitempty"`
	Resources []string  `json:"resources,omitempty"`
}

// docEntry is a runbook journal entry.
type docRunbookEntry struct {
	Name    string      `json:"name"`
	RunID   string      `json:"run_id,omitempty"`
	Kind    string      `json:"kind,omitempty"`
	Step    string      `json:"step,omitempty"`
	Status  StepStatus  `json:"status,omitempty"`
	Release *docRelease `json:"release,omitempty"`
	Done    bool        `json:"done,omitempty"`
	Removed bool        `json:"removed,omitempty"`
}

func encodeRelease(r *Release) (*docRelease, error) {
	if r == nil {
		return nil, nil
	}
	d := &docRelease{Summary: r.Summary, Provider: r.Provider, Action: r.Action, Resources: r.Resources}
	if r.Args == cty.NilVal {
		return d, nil
	}
	ty := r.Args.Type()
	tb, err := ctyjson.MarshalType(ty)
	if err != nil {
		return nil, err
	}
	vb, err := ctyjson.Marshal(r.Args, ty)
	if err != nil {
		return nil, err
	}
	var v jsonAny
	if err := v.UnmarshalJSON(vb); err != nil {
		return nil, err
	}
	d.Args = &docValue{Type: tb, Value: v}
	return d, nil
}

func (j jsonAny) MarshalJSON() ([]byte, error) { return json.Marshal(j.v) }

func (r *reader) release(d *docRelease) (*Release, error) {
	if d == nil {
		return nil, nil
	}
	rel := &Release{Summary: d.Summary, Provider: d.Provider, Action: d.Action, Resources: d.Resources}
	if len(d.Resources) > 0 {
		return rel, nil
	}
	if d.Provider == "" || d.Action == "" || d.Args == nil {
		return nil, errors.New("a runbook release names a provider, an action and its args, or resources")
	}
	args, err := r.value(d.Args)
	if err != nil {
		return nil, err
	}
	rel.Args = args
	return rel, nil
}

// appendRunbooks writes the "runbooks" member of the state document.
func (w *writer) appendRunbooks(s *State) error {
	if len(s.Runbooks) == 0 {
		return nil
	}
	var docs []docRunbook
	for _, rb := range s.SortedRunbooks() {
		d := docRunbook{Name: rb.Name, RunID: rb.RunID, Kind: rb.Kind, Done: rb.Done, Steps: map[string]docRunbookStep{}}
		for n, st := range rb.Steps {
			rel, err := encodeRelease(st.Release)
			if err != nil {
				return fmt.Errorf("runbook %q, step %q: %w", rb.Name, n, err)
			}
			d.Steps[n] = docRunbookStep{Status: st.Status, Release: rel}
		}
		docs = append(docs, d)
	}
	b, err := json.MarshalIndent(docs, "  ", "  ")
	if err != nil {
		return err
	}
	w.b = append(w.b, ",\n  \"runbooks\": "...)
	w.b = append(w.b, b...)
	return nil
}

func (r *reader) runbooks(s *State, docs []docRunbook) error {
	for _, d := range docs {
		if d.Name == "" || d.RunID == "" {
			return errors.New("a runbook of the state has no name or run_id")
		}
		if _, dup := s.Runbooks[d.Name]; dup {
			return fmt.Errorf("runbook %q appears twice in the state", d.Name)
		}
		rb := &Runbook{Name: d.Name, RunID: d.RunID, Kind: d.Kind, Done: d.Done, Steps: map[string]*RunbookStep{}}
		for n, ds := range d.Steps {
			rel, err := r.release(ds.Release)
			if err != nil {
				return fmt.Errorf("runbook %q, step %q: %w", d.Name, n, err)
			}
			rb.Steps[n] = &RunbookStep{Status: ds.Status, Release: rel}
		}
		if s.Runbooks == nil {
			s.Runbooks = map[string]*Runbook{}
		}
		s.Runbooks[d.Name] = rb
	}
	return nil
}

// runbookEntry writes e as json.Marshal writes its docRunbookEntry, member
// by member: a run journals two entries for each of its steps.
func (w *writer) runbookEntry(e *RunbookEntry) error {
	rel, err := encodeRelease(e.Release)
	if err != nil {
		return err
	}
	w.b = append(w.b, `{"runbook":{`...)
	w.field(true, 0, "name")
	w.b = appendString(w.b, e.Name)
	for _, m := range []struct{ key, value string }{{"run_id", e.RunID}, {"kind", e.Kind}, {"step", e.Step}, {"status", string(e.Status)}} {
		if m.value != "" {
			w.field(false, 0, m.key)
			w.b = appendString(w.b, m.value)
		}
	}
	if rel != nil {
		b, err := json.Marshal(rel)
		if err != nil {
			return err
		}
		w.field(false, 0, "release")
		w.b = append(w.b, b...)
	}
	if e.Done {
		w.b = append(w.b, `,"done":true`...)
	}
	if e.Removed {
		w.b = append(w.b, `,"removed":true`...)
	}
	w.b = append(w.b, '}')
	return nil
}

func (r *reader) runbookEntry(d *docRunbookEntry) (*RunbookEntry, error) {
	if d.Name == "" {
		return nil, errors.New("a runbook journal entry has no name")
	}
	rel, err := r.release(d.Release)
	if err != nil {
		return nil, err
	}
	return &RunbookEntry{Name: d.Name, RunID: d.RunID, Kind: d.Kind, Step: d.Step, Status: d.Status, Release: rel, Done: d.Done, Removed: d.Removed}, nil
}
