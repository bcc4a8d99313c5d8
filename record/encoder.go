package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
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
// place, and its after list is never changed in place either. The
// encoder knows a step by its pointer and an after list by its first
// element's address and its length: the steps of a wave share one list,
// which is encoded once for all of them and all their versions.
type Encoder struct {
	steps map[*Step]stepDoc
	// spare is the map of the version before last, cleared and reused
	// for the next: a version lists every step. spareAfters likewise.
	spare               map[*Step]stepDoc
	afters, spareAfters map[afterKey][]byte
	// arena is where new encodings are appended, a few allocations for
	// thousands of steps; an encoding keeps its part of it alive.
	arena []byte
	w     *bufio.Writer
	size  int
}

// stepDoc is the encoding of a step in three parts, the after member in
// the middle, shared by the steps with the same after list.
type stepDoc struct {
	head, after, tail []byte
}

type afterKey struct {
	first *string
	n     int
}

// stepsKey is the steps member of an encoded record without steps; the
// steps are written in its place. At depth one the key is indented by
// two spaces, which no deeper key is.
var stepsKey = []byte("\n  \"steps\": []")

// Encode writes the document of r to w, byte for byte what Marshal
// returns, without assembling it in memory: most of it is the steps'
// encodings kept from the versions before.
func (e *Encoder) Encode(w io.Writer, r *Record) error {
	if e.w == nil {
		e.w = bufio.NewWriterSize(w, 64<<10)
	}
	e.w.Reset(w)
	if len(r.Steps) == 0 {
		e.steps, e.spare, e.afters, e.spareAfters = nil, nil, nil, nil
		b, err := Marshal(r)
		if err != nil {
			return err
		}
		e.size = len(b)
		e.w.Write(b)
		return e.w.Flush()
	}
	head := *r
	head.Steps = []*Step{}
	doc, err := Marshal(&head)
	if err != nil {
		return err
	}
	at := bytes.Index(doc, stepsKey)
	if at < 0 {
		return fmt.Errorf("record of run %s: no steps member in its document", r.RunID)
	}
	at += len(stepsKey) - len("[]")
	steps, afters := e.spare, e.spareAfters
	if steps == nil {
		steps = make(map[*Step]stepDoc, len(r.Steps))
		afters = make(map[afterKey][]byte)
	}
	clear(steps)
	clear(afters)
	for _, s := range r.Steps {
		var k afterKey
		if len(s.After) > 0 {
			k = afterKey{&s.After[0], len(s.After)}
			if _, ok := afters[k]; !ok {
				if a, ok := e.afters[k]; ok {
					afters[k] = a
				}
			}
		}
		d, ok := e.steps[s]
		if !ok {
			if d, err = e.step(s, afters); err != nil {
				return err
			}
		}
		steps[s] = d
		if len(s.After) > 0 {
			afters[k] = d.after
		}
	}
	e.steps, e.spare = steps, e.steps
	e.afters, e.spareAfters = afters, e.afters
	bw := e.w
	// The first step has no comma before it.
	e.size = len(doc) + len("[\n  ]") - len("[]") - len(",")
	bw.Write(doc[:at])
	bw.WriteByte('[')
	for i, s := range r.Steps {
		if i > 0 {
			bw.WriteByte(',')
		}
		d := steps[s]
		bw.WriteString("\n    ")
		bw.Write(d.head)
		bw.Write(d.after)
		bw.Write(d.tail)
		e.size += len(",\n    ") + len(d.head) + len(d.after) + len(d.tail)
	}
	bw.WriteString("\n  ]")
	bw.Write(doc[at+len("[]"):])
	return bw.Flush()
}

// Len is the size of the last document Encode wrote: what writing it
// costs grows with it.
func (e *Encoder) Len() int { return e.size }

// Within the steps' array a step's members are at depth three, the
// elements of its lists at depth four.
const (
	stepIndent = "    "
	memberLine = ",\n      "
)

// step encodes s as json.MarshalIndent(s, stepIndent, "  ") writes it,
// byte for byte, without its reflection and its second pass to indent: a
// run encodes thousands of steps, most of them after a list of a hundred
// names. Its after member is the one in afters for the same list, where
// there is one, and is put there otherwise. A step's answer and checks, rare, are encoded by
// encoding/json itself at their depth.
func (e *Encoder) step(s *Step, afters map[afterKey][]byte) (stepDoc, error) {
	var d stepDoc
	// Room for it all at once: the member names, the times and the
	// quotes and indents of the after list.
	n := 320 + len(s.Name) + len(s.Summary) + len(s.Host) + len(s.SkipReason) + len(s.Output) + len(s.Error)
	after, shared := []byte(nil), false
	if len(s.After) > 0 {
		after, shared = afters[afterKey{&s.After[0], len(s.After)}]
		if !shared {
			for _, a := range s.After {
				n += len(a) + len(",\n        \"\"")
			}
		}
	}
	if cap(e.arena)-len(e.arena) < n {
		e.arena = make([]byte, 0, max(n, 64<<10))
	}
	b := e.arena
	start := len(b)
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
	mid := len(b)
	if len(s.After) > 0 && !shared {
		b = append(b, memberLine+`"after": [`...)
		for i, a := range s.After {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b = appendString(b, a)
		}
		b = append(b, "\n      ]"...)
		after = b[mid:len(b):len(b)]
		afters[afterKey{&s.After[0], len(s.After)}] = after
	}
	tail := len(b)
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
			return d, err
		}
	}
	if !s.FinishedAt.IsZero() {
		b = append(b, memberLine+`"finished_at": `...)
		if b, err = appendTime(b, s.FinishedAt); err != nil {
			return d, err
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
			return d, err
		}
	}
	if len(s.Checks) > 0 {
		b = append(b, memberLine+`"checks": `...)
		if b, err = appendIndented(b, s.Checks); err != nil {
			return d, err
		}
	}
	if s.Error != "" {
		b = append(b, memberLine+`"error": `...)
		b = appendString(b, s.Error)
	}
	b = append(b, "\n"+stepIndent+"}"...)
	e.arena = b
	return stepDoc{head: b[start:mid:mid], after: after, tail: b[tail:len(b):len(b)]}, nil
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
