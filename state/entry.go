package state

import (
	"errors"
	"fmt"

	"github.com/drover-dr/drover/addrs"
)

// A journal entry is one line of JSON, so that a backend can append it
// whole and a reader can drop a line torn by a crash:
//
//	{"set": <instance as in the state document>}
//	{"remove": "value.x[0]"}
//	{"output": {"name": "ip", "type": T, "value": V, "sensitive": true}}
//	{"output": {"name": "ip", "deleted": true}}
//	{"runbook": {"name": "failover", "run_id": "...", "step": "pre", "status": "started"}}

// MarshalEntry writes e as one line of JSON, without the newline.
func MarshalEntry(e JournalEntry) ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	w := &writer{compact: true}
	switch {
	case e.Set != nil:
		w.b = append(w.b, `{"set":`...)
		if err := w.instance(e.Set, 0); err != nil {
			return nil, err
		}
	case e.Remove != nil:
		w.b = append(w.b, `{"remove":`...)
		w.b = appendString(w.b, e.Remove.String())
	case e.Runbook != nil:
		if err := w.runbookEntry(e.Runbook); err != nil {
			return nil, fmt.Errorf("runbook %q: %w", e.Runbook.Name, err)
		}
	default:
		o := e.Output
		w.b = append(w.b, `{"output":`...)
		name := func() {
			w.field(true, 0, "name")
			w.b = appendString(w.b, o.Name)
		}
		if o.Deleted {
			w.b = append(w.b, '{')
			name()
			w.b = append(w.b, `,"deleted":true}`...)
		} else if err := w.output(o.Output, 0, name); err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
	}
	return append(w.b, '}'), nil
}

// UnmarshalEntry reads one line written by MarshalEntry.
func UnmarshalEntry(b []byte) (JournalEntry, error) {
	var d struct {
		Set    *docInstance `json:"set"`
		Remove *string      `json:"remove"`
		Output *struct {
			Name string `json:"name"`
			docOutput
			Deleted bool `json:"deleted"`
		} `json:"output"`
		Runbook *docRunbookEntry `json:"runbook"`
	}
	if err := unmarshalJSON(b, &d); err != nil {
		return JournalEntry{}, fmt.Errorf("not a journal entry: %w", err)
	}
	var e JournalEntry
	var err error
	r := newReader()
	if d.Set != nil {
		if e.Set, err = r.instance(d.Set); err != nil {
			return JournalEntry{}, err
		}
	}
	if d.Remove != nil {
		addr, err := addrs.ParseInstance(*d.Remove)
		if err != nil {
			return JournalEntry{}, err
		}
		e.Remove = &addr
	}
	if d.Runbook != nil {
		if e.Runbook, err = r.runbookEntry(d.Runbook); err != nil {
			return JournalEntry{}, err
		}
	}
	if o := d.Output; o != nil {
		if o.Name == "" {
			return JournalEntry{}, errors.New("journal output entry has no name")
		}
		e.Output = &NamedOutput{Name: o.Name, Deleted: o.Deleted}
		if !o.Deleted {
			if e.Output.Output, err = r.output(&o.docOutput); err != nil {
				return JournalEntry{}, fmt.Errorf("output %q: %w", o.Name, err)
			}
		}
	}
	return e, e.check()
}

func (e JournalEntry) check() error {
	n := 0
	for _, set := range []bool{e.Set != nil, e.Remove != nil, e.Output != nil, e.Runbook != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("a journal entry sets exactly one of set, remove, output and runbook, not %d", n)
	}
	return nil
}

// Replay makes the change e records. Backends use it to bring a stored
// state up to date with a journal left by an interrupted apply.
func (s *State) Replay(e JournalEntry) error {
	if err := e.check(); err != nil {
		return err
	}
	if s.Instances == nil {
		s.Instances = map[addrs.Instance]*Instance{}
	}
	if s.Outputs == nil {
		s.Outputs = map[string]Output{}
	}
	switch {
	case e.Set != nil:
		s.Set(e.Set)
	case e.Remove != nil:
		s.Remove(*e.Remove)
	case e.Runbook != nil:
		s.RecordRunbook(*e.Runbook)
	case e.Output.Deleted:
		delete(s.Outputs, e.Output.Name)
	default:
		s.SetOutput(e.Output.Name, e.Output.Output)
	}
	return nil
}
