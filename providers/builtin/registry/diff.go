package registry

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/drover-dr/drover/internal/plural"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
)

// change is one difference between two snapshots of keys: a key or a
// value only in the new one (+), only in the old one (-), or a value that
// differs (~).
type change struct {
	op       byte
	key      string
	old, new *regtext.Value // nil for a whole key
}

func (c change) String() string {
	switch {
	case c.old == nil && c.new == nil:
		return fmt.Sprintf("%c [%s]", c.op, c.key)
	case c.op == '~':
		return fmt.Sprintf("~ [%s] %s → %s", c.key, c.old, dataOf(*c.new))
	case c.op == '+':
		return fmt.Sprintf("+ [%s] %s", c.key, c.new)
	default:
		return fmt.Sprintf("- [%s] %s", c.key, c.old)
	}
}

// dataOf is the data part of a value line.
func dataOf(v regtext.Value) string {
	s := v.String()
	if v.Name == "" {
		return strings.TrimPrefix(s, "@=")
	}
	_, data, _ := strings.Cut(s[len(fmt.Sprintf("%q", v.Name)):], "=")
	return data
}

// snapshot keeps the sections that set keys and the values they set,
// by key name (case-insensitive), in order.
type snapshot struct {
	order []string
	keys  map[string]regtext.Key
}

func newSnapshot(keys []regtext.Key) snapshot {
	s := snapshot{keys: map[string]regtext.Key{}}
	for _, k := range keys {
		if k.Delete {
			continue
		}
		id := strings.ToUpper(k.Path)
		prev, ok := s.keys[id]
		if !ok {
			s.order = append(s.order, id)
			prev = regtext.Key{Path: k.Path}
		}
		for _, v := range k.Values {
			prev.Values = slices.DeleteFunc(prev.Values, func(x regtext.Value) bool { return strings.EqualFold(x.Name, v.Name) })
			if !v.Delete {
				prev.Values = append(prev.Values, v)
			}
		}
		s.keys[id] = prev
	}
	return s
}

func valueByName(vals []regtext.Value, name string) *regtext.Value {
	for i := range vals {
		if strings.EqualFold(vals[i].Name, name) {
			return &vals[i]
		}
	}
	return nil
}

func sameValue(a, b regtext.Value) bool { return a.Type == b.Type && bytes.Equal(a.Data, b.Data) }

// diffKeys lists how the keys and values of new differ from old.
func diffKeys(old, new []regtext.Key) []change {
	o, n := newSnapshot(old), newSnapshot(new)
	var out []change
	for _, id := range n.order {
		nk := n.keys[id]
		ok, had := o.keys[id]
		if !had {
			out = append(out, change{op: '+', key: nk.Path})
		}
		for i := range nk.Values {
			nv := &nk.Values[i]
			ov := valueByName(ok.Values, nv.Name)
			switch {
			case ov == nil:
				out = append(out, change{op: '+', key: nk.Path, new: nv})
			case !sameValue(*ov, *nv):
				out = append(out, change{op: '~', key: nk.Path, old: ov, new: nv})
			}
		}
		for i := range ok.Values {
			if valueByName(nk.Values, ok.Values[i].Name) == nil {
				out = append(out, change{op: '-', key: nk.Path, old: &ok.Values[i]})
			}
		}
	}
	for _, id := range o.order {
		if _, ok := n.keys[id]; !ok {
			out = append(out, change{op: '-', key: o.keys[id].Path})
		}
	}
	return out
}

// summary puts changes on one line for a plan, naming the first few.
func summary(changes []change) string {
	const shown = 3
	var keys []string
	values := 0
	for _, c := range changes {
		if !slices.Contains(keys, strings.ToUpper(c.key)) {
			keys = append(keys, strings.ToUpper(c.key))
		}
		if c.old != nil || c.new != nil {
			values++
		}
	}
	var parts []string
	for i, c := range changes {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(changes)-shown))
			break
		}
		parts = append(parts, c.String())
	}
	subject, one := plural.Count(values, "value")+" in "+plural.Count(len(keys), "key"), values == 1
	if values == 0 {
		subject, one = plural.Count(len(keys), "key"), len(keys) == 1
	}
	verb := "differ"
	if one {
		verb = "differs"
	}
	return fmt.Sprintf("%s %s from the last capture: %s", subject, verb, strings.Join(parts, "; "))
}

// trim drops from keys the values that baseline sets to the same type and
// data, and then the keys baseline has that are left without values: what
// remains is what differs from the defaults.
func trim(keys, baseline []regtext.Key) []regtext.Key {
	base := newSnapshot(baseline)
	var out []regtext.Key
	for _, k := range keys {
		bk, inBase := base.keys[strings.ToUpper(k.Path)]
		kept := regtext.Key{Path: k.Path}
		for _, v := range k.Values {
			if bv := valueByName(bk.Values, v.Name); bv == nil || !sameValue(*bv, v) {
				kept.Values = append(kept.Values, v)
			}
		}
		if !inBase || len(kept.Values) > 0 {
			out = append(out, kept)
		}
	}
	return out
}
