package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Paths are written as JSON arrays of steps, the same way the plan document
// writes them: a string is an attribute name, a number a list or tuple
// index, and {"key": "k"} a map key, so that a reader needs no schema to
// tell attribute names from map keys.
//
// A step into a set has no stable name (set elements are keyed by their own
// value), so a path is cut short at the first step that is neither of the
// above. The shortened path covers the whole set: marking more as sensitive
// is safe, marking less would leak.

func appendPath(b []byte, p cty.Path) []byte {
	b = append(b, '[')
	for i, step := range representable(p) {
		if i > 0 {
			b = append(b, ',')
		}
		switch s := step.(type) {
		case cty.GetAttrStep:
			b = appendString(b, s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.Number {
				i, _ := s.Key.AsBigFloat().Int64()
				b = strconv.AppendInt(b, i, 10)
			} else {
				b = append(b, `{"key":`...)
				b = appendString(b, s.Key.AsString())
				b = append(b, '}')
			}
		}
	}
	return append(b, ']')
}

// representable returns the longest prefix of p that appendPath can write.
func representable(p cty.Path) cty.Path {
	for i, step := range p {
		switch s := step.(type) {
		case cty.GetAttrStep:
			continue
		case cty.IndexStep:
			k := s.Key
			if k.IsKnown() && !k.IsNull() && !k.IsMarked() {
				if k.Type() == cty.String {
					continue
				}
				if k.Type() == cty.Number {
					if i, acc := k.AsBigFloat().Int64(); acc == big.Exact && i >= 0 {
						continue
					}
				}
			}
		}
		return p[:i]
	}
	return p
}

func decodePath(raw json.RawMessage) (cty.Path, error) {
	var steps []json.RawMessage
	if err := json.Unmarshal(raw, &steps); err != nil {
		return nil, fmt.Errorf("a path must be an array of steps: %w", err)
	}
	p := make(cty.Path, 0, len(steps))
	for _, s := range steps {
		s = bytes.TrimSpace(s)
		if len(s) == 0 {
			return nil, fmt.Errorf("empty path step")
		}
		switch s[0] {
		case '"':
			var name string
			if err := json.Unmarshal(s, &name); err != nil {
				return nil, err
			}
			p = p.GetAttr(name)
		case '{':
			var k struct {
				Key *string `json:"key"`
			}
			if err := json.Unmarshal(s, &k); err != nil || k.Key == nil {
				return nil, fmt.Errorf("path step %s: a map key step is {\"key\": \"...\"}", s)
			}
			p = p.Index(cty.StringVal(*k.Key))
		default:
			i, err := strconv.ParseInt(string(s), 10, 64)
			if err != nil || i < 0 {
				return nil, fmt.Errorf("path step %s is not an attribute name, an index or a map key", s)
			}
			p = p.Index(cty.NumberIntVal(i))
		}
	}
	return p, nil
}

// FormatPath renders p as it would be written after a resource address in
// configuration: `.disks[0].tags["owner"]`.
func FormatPath(p cty.Path) string {
	var sb strings.Builder
	for _, step := range p {
		switch s := step.(type) {
		case cty.GetAttrStep:
			sb.WriteString("." + s.Name)
		case cty.IndexStep:
			k, _ := s.Key.Unmark()
			switch {
			case !k.IsKnown() || k.IsNull():
				sb.WriteString("[?]")
			case k.Type() == cty.String:
				sb.WriteString("[" + strconv.Quote(k.AsString()) + "]")
			case k.Type() == cty.Number:
				sb.WriteString("[" + k.AsBigFloat().Text('f', -1) + "]")
			default:
				sb.WriteString("[...]")
			}
		}
	}
	return sb.String()
}
