package regstore

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
)

// tree is what Export and Import need of a registry; paths are key names
// from the registry's top.
type tree interface {
	exists(path []string) (bool, error)
	// values lists a key's values in the registry's order.
	values(path []string) ([]regtext.Value, error)
	// subkeys lists a key's subkey names.
	subkeys(path []string) ([]string, error)
	// createKey creates a key whose parent exists.
	createKey(path []string) error
	// deleteKey removes a key and everything below it.
	deleteKey(path []string) error
	setValue(path []string, v regtext.Value) error
	deleteValue(path []string, name string) error
}

// section is a .reg section with its key as a path.
type section struct {
	path   []string
	delete bool
	values []regtext.Value
}

// export reads the key at path and, when recursive, its subtree, values
// and subkeys in name order so that two exports of the same content are
// the same text.
func export(t tree, path []string, recursive bool) ([]section, error) {
	vals, err := t.values(path)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(vals, func(a, b regtext.Value) int { return compareNames(a.Name, b.Name) })
	out := []section{{path: path, values: vals}}
	if !recursive {
		return out, nil
	}
	subs, err := t.subkeys(path)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(subs, compareNames)
	for _, s := range subs {
		below, err := export(t, append(slices.Clone(path), s), true)
		if err != nil {
			return nil, err
		}
		out = append(out, below...)
	}
	return out, nil
}

// importSections applies sections to t in order. undo holds the sections
// that reverse every change made, also when it fails part way; fail
// names the .reg line that failed.
func importSections(t tree, sections []section, lines []int) (undo []section, err error) {
	// groups of undo sections, one per change, reversed at the end: the
	// last change is undone first, and a deleted subtree comes back
	// parents first.
	var groups [][]section
	defer func() {
		slices.Reverse(groups)
		for _, g := range groups {
			undo = append(undo, g...)
		}
		undo = merge(undo)
	}()
	for i, s := range sections {
		fail := func(err error) error { return atLine(lines[i], err) }
		ok, err := t.exists(s.path)
		if err != nil {
			return undo, fail(err)
		}
		if s.delete {
			if !ok {
				continue
			}
			if len(s.path) == 0 {
				return undo, fail(fmt.Errorf("the root of a registry cannot be deleted"))
			}
			saved, err := export(t, s.path, true)
			if err != nil {
				return undo, fail(err)
			}
			if err := t.deleteKey(s.path); err != nil {
				return undo, fail(err)
			}
			groups = append(groups, saved)
			continue
		}
		if !ok {
			created, err := createAll(t, s.path)
			if created != nil {
				groups = append(groups, []section{{path: created, delete: true}})
			}
			if err != nil {
				return undo, fail(err)
			}
		}
		current, err := t.values(s.path)
		if err != nil {
			return undo, fail(err)
		}
		for _, v := range s.values {
			old := findValue(current, v.Name)
			if v.Delete {
				if old == nil {
					continue
				}
				if err := t.deleteValue(s.path, v.Name); err != nil {
					return undo, fail(err)
				}
			} else if err := t.setValue(s.path, v); err != nil {
				return undo, fail(err)
			}
			if ok {
				back := regtext.Value{Name: v.Name, Delete: true}
				if old != nil {
					back = regtext.Value{Name: old.Name, Type: old.Type, Data: old.Data}
				}
				groups = append(groups, []section{{path: s.path, values: []regtext.Value{back}}})
			}
			current = replaceValue(current, v)
		}
	}
	return undo, nil
}

// createAll creates path and its missing parents, returning the topmost
// key it created (whose deletion undoes it all).
func createAll(t tree, path []string) (created []string, err error) {
	for i := 1; i <= len(path); i++ {
		ok, err := t.exists(path[:i])
		if err != nil {
			return created, err
		}
		if ok {
			continue
		}
		if err := t.createKey(path[:i]); err != nil {
			return created, err
		}
		if created == nil {
			created = slices.Clone(path[:i])
		}
	}
	return created, nil
}

func findValue(vals []regtext.Value, name string) *regtext.Value {
	for i := range vals {
		if strings.EqualFold(vals[i].Name, name) {
			return &vals[i]
		}
	}
	return nil
}

func replaceValue(vals []regtext.Value, v regtext.Value) []regtext.Value {
	out := slices.DeleteFunc(vals, func(x regtext.Value) bool { return strings.EqualFold(x.Name, v.Name) })
	if !v.Delete {
		out = append(out, v)
	}
	return out
}

// merge joins consecutive sections of the same key that set values.
func merge(in []section) []section {
	var out []section
	for _, s := range in {
		if n := len(out); n > 0 && !s.delete && !out[n-1].delete && slices.EqualFunc(out[n-1].path, s.path, strings.EqualFold) {
			out[n-1].values = append(out[n-1].values, s.values...)
			continue
		}
		out = append(out, s)
	}
	return out
}

// toKeys names sections as a .reg file does.
func toKeys(n names, sections []section) []regtext.Key {
	out := make([]regtext.Key, len(sections))
	for i, s := range sections {
		out[i] = regtext.Key{Path: n.format(s.path), Delete: s.delete, Values: s.values}
	}
	return out
}

// fromKeys reads the key names of .reg sections.
func fromKeys(n names, keys []regtext.Key) ([]section, []int, error) {
	out := make([]section, len(keys))
	lines := make([]int, len(keys))
	for i, k := range keys {
		path, err := n.parse(k.Path)
		if err != nil {
			return nil, nil, atLine(k.Line, err)
		}
		out[i] = section{path: path, delete: k.Delete, values: k.Values}
		lines[i] = k.Line
	}
	return out, lines, nil
}

// atLine says which line of the .reg file err is about, when it came
// from one.
func atLine(line int, err error) error {
	if line == 0 {
		return err
	}
	return fmt.Errorf("line %d: %w", line, err)
}

func compareNames(a, b string) int {
	if c := strings.Compare(strings.ToUpper(a), strings.ToUpper(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}
