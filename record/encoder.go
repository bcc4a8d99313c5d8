package record

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Encoder writes the successive versions of one record, each the document
// Marshal makes, re-encoding only the steps that changed since the last
// version: a run of a thousand steps saves its record many times, and
// encoding every step each time would cost more than the steps.
//
// Invariant (the caller's): a step is a value once it was encoded; a
// changed step is a new *Step in Steps, never an old one changed in
// place. The encoder knows a step by its pointer.
type Encoder struct {
	steps map[*Step][]byte
	// buf is the last document, whose memory the next one reuses.
	buf []byte
}

// stepsKey is the steps member of an encoded record without steps; the
// steps are spliced in in its place. At depth one the key is indented by
// two spaces, which no deeper key is.
var stepsKey = []byte("\n  \"steps\": []")

// Encode returns the document of r, byte for byte what Marshal returns,
// in memory that the next Encode reuses.
func (e *Encoder) Encode(r *Record) ([]byte, error) {
	if len(r.Steps) == 0 {
		e.steps = nil
		return Marshal(r)
	}
	head := *r
	head.Steps = []*Step{}
	doc, err := Marshal(&head)
	if err != nil {
		return nil, err
	}
	at := bytes.Index(doc, stepsKey)
	if at < 0 {
		return nil, fmt.Errorf("record of run %s: no steps member in its document", r.RunID)
	}
	at += len(stepsKey) - len("[]")
	steps := make(map[*Step][]byte, len(r.Steps))
	size := len(doc)
	for _, s := range r.Steps {
		b, ok := e.steps[s]
		if !ok {
			// The prefix indents a step's lines as the steps' array
			// does in the document (depth two).
			if b, err = json.MarshalIndent(s, "    ", "  "); err != nil {
				return nil, err
			}
		}
		steps[s] = b
		size += len(b) + len(",\n    ")
	}
	e.steps = steps
	out := e.buf[:0]
	if cap(out) < size+len("\n  ") {
		// Room to grow: the next version is longer, its steps having
		// more to say.
		out = make([]byte, 0, 2*size)
	}
	out = append(out, doc[:at]...)
	out = append(out, '[')
	for i, s := range r.Steps {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, "\n    "...)
		out = append(out, steps[s]...)
	}
	out = append(out, "\n  ]"...)
	e.buf = append(out, doc[at+len("[]"):]...)
	return e.buf, nil
}
