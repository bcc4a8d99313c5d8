package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"
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
	// spare is the map of the version before last, cleared and reused
	// for the next: a version lists every step.
	spare map[*Step][]byte
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
		e.steps, e.spare = nil, nil
		b, err := Marshal(r)
		e.buf = b
		return b, err
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
	steps := e.spare
	if steps == nil {
		steps = make(map[*Step][]byte, len(r.Steps))
	}
	clear(steps)
	size := len(doc)
	for _, s := range r.Steps {
		b, ok := e.steps[s]
		if !ok {
			// The prefix indents a step's lines as the steps' array
			// does in the document (depth two).
			if b, err = appendStep(nil, s); err != nil {
				return nil, err
			}
		}
		steps[s] = b
		size += len(b) + len(",\n    ")
	}
	e.steps, e.spare = steps, e.steps
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

// Len is the size of the last document Encode returned: what writing it
// costs grows with it.
func (e *Encoder) Len() int { return len(e.buf) }

// Within the steps' array a step's members are at depth three, the
// elements of its lists at depth four.
const (
	stepIndent = "    "
	memberLine = ",\n      "
)

// appendStep appends s as json.MarshalIndent(s, stepIndent, "  ") writes
// it, byte for byte, without its reflection and its second pass to indent:
// a run re-encodes thousands of steps, most of them an after list of a
// hundred names. A step's answer and checks, rare, are encoded by
// encoding/json itself at their depth.
func appendStep(b []byte, s *Step) ([]byte, error) {
	// Room for it all at once: the member names, the times and the
	// quotes and indents of the after list.
	n := 320 + len(s.Name) + len(s.Summary) + len(s.Host) + len(s.SkipReason) + len(s.Output) + len(s.Error)
	for _, a := range s.After {
		n += len(a) + len(",\n        \"\"")
	}
	b = slices.Grow(b, n)
	b = append(b, "{\n      \"name\": "...)
	b = appendString(b, s.Name)
	b = append(b, memberLine+`"action": `...)
	b = appendString(b, s.Action)
	if s.Summary != "" {
		b = append(b, memberLine+`"summary": `...)
		b = appendString(b, s.Summary)
	}
	if s.Host != "" {
		b = append(b, memberLine+`"host": `...)
		b = appendString(b, s.Host)
	}
	b = append(b, memberLine+`"wave": `...)
	b = strconv.AppendInt(b, int64(s.Wave), 10)
	if len(s.After) > 0 {
		b = append(b, memberLine+`"after": [`...)
		for i, a := range s.After {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b = appendString(b, a)
		}
		b = append(b, "\n      ]"...)
	}
	b = append(b, memberLine+`"status": `...)
	b = appendString(b, string(s.Status))
	if s.SkipReason != "" {
		b = append(b, memberLine+`"skip_reason": `...)
		b = appendString(b, s.SkipReason)
	}
	var err error
	if !s.StartedAt.IsZero() {
		b = append(b, memberLine+`"started_at": `...)
		if b, err = appendTime(b, s.StartedAt); err != nil {
			return nil, err
		}
	}
	if !s.FinishedAt.IsZero() {
		b = append(b, memberLine+`"finished_at": `...)
		if b, err = appendTime(b, s.FinishedAt); err != nil {
			return nil, err
		}
	}
	if s.Attempts != 0 {
		b = append(b, memberLine+`"attempts": `...)
		b = strconv.AppendInt(b, int64(s.Attempts), 10)
	}
	if s.ExitCode != nil {
		b = append(b, memberLine+`"exit_code": `...)
		b = strconv.AppendInt(b, int64(*s.ExitCode), 10)
	}
	if s.Output != "" {
		b = append(b, memberLine+`"output": `...)
		b = appendString(b, s.Output)
	}
	if s.Answer != nil {
		b = append(b, memberLine+`"answer": `...)
		if b, err = appendIndented(b, s.Answer); err != nil {
			return nil, err
		}
	}
	if len(s.Checks) > 0 {
		b = append(b, memberLine+`"checks": `...)
		if b, err = appendIndented(b, s.Checks); err != nil {
			return nil, err
		}
	}
	if s.Error != "" {
		b = append(b, memberLine+`"error": `...)
		b = appendString(b, s.Error)
	}
	return append(b, "\n"+stepIndent+"}"...), nil
}

// appendString appends s quoted as encoding/json quotes it. Text of
// printable ASCII that needs no escape, all a step's names and most of
// its text, is copied as it is; anything else is left to encoding/json,
// which escapes HTML's characters, control characters, U+2028 and U+2029
// and replaces invalid UTF-8.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime appends t as time.Time's MarshalJSON writes it: a UTC time
// of a four-digit year, every time a run records, is formatted in place.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); t.Location() != time.UTC || y < 0 || y > 9999 {
		q, err := t.MarshalJSON()
		if err != nil {
			return nil, &json.MarshalerError{Type: reflect.TypeFor[time.Time](), Err: err}
		}
		return append(b, q...), nil
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendIndented appends v as encoding/json writes it as a member of a
// step.
func appendIndented(b []byte, v any) ([]byte, error) {
	q, err := json.MarshalIndent(v, "      ", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, q...), nil
}
