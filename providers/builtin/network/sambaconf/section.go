package sambaconf

import (
	"fmt"
	"slices"
	"strings"
)

// Section is one [name] of a Samba configuration with its parameters in
// order.
type Section struct {
	Name   string
	Params []Param
}

// Param is one "key = value" line.
type Param struct{ Key, Value string }

// Get is the value of the parameter key (keys compare as Samba compares
// them: without case, spaces and underscores), and whether it is set.
func (s Section) Get(key string) (string, bool) {
	for _, p := range s.Params {
		if canonical(p.Key) == canonical(key) {
			return p.Value, true
		}
	}
	return "", false
}

func canonical(key string) string {
	return strings.NewReplacer(" ", "", "_", "", "\t", "").Replace(strings.ToLower(key))
}

// Format writes sections as a configuration file.
func Format(sections []Section) []byte {
	var b strings.Builder
	b.WriteString("# Written by Drover: changes here are drift, undone by the next apply.\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "[%s]\n", s.Name)
		for _, p := range s.Params {
			fmt.Fprintf(&b, "  %s = %s\n", p.Key, p.Value)
		}
	}
	return []byte(b.String())
}

// Parse reads a configuration file as Samba does, without its includes
// and substitutions: comment lines start with # or ;, a line ending in a
// backslash continues on the next.
func Parse(b []byte) ([]Section, error) {
	var sections []Section
	var cont string
	lines := slices.Collect(strings.Lines(string(b)))
	for i, l := range lines {
		n := i + 1
		l = cont + strings.TrimSpace(l)
		cont = ""
		if strings.HasSuffix(l, `\`) && n < len(lines) {
			cont = strings.TrimSuffix(l, `\`)
			continue
		}
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case l[0] == '[':
			end := strings.IndexByte(l, ']')
			if end < 0 {
				return nil, fmt.Errorf("line %d: a section name without its closing ]", n)
			}
			sections = append(sections, Section{Name: strings.TrimSpace(l[1:end])})
		default:
			k, v, ok := param(l)
			if !ok {
				return nil, fmt.Errorf("line %d: %q is not \"key = value\"", n, l)
			}
			if len(sections) == 0 {
				return nil, fmt.Errorf("line %d: a parameter before any [section]", n)
			}
			s := &sections[len(sections)-1]
			s.Params = append(s.Params, Param{Key: k, Value: v})
		}
	}
	return sections, nil
}

// param splits a "key = value" line; keys are lower case.
func param(l string) (key, value string, ok bool) {
	k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
	if !ok {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v), true
}
