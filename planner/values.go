package planner

import (
	"sort"
	"sync"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/state"
	"github.com/zclconf/go-cty/cty"
)

// values answers references during one run. Resource values are marked
// sensitive at their sensitive paths so that anything derived from them
// stays redacted.
type values struct {
	mu        sync.RWMutex
	vars      map[string]cty.Value
	locals    map[string]cty.Value
	hosts     map[string]cty.Value
	resources map[addrs.Resource]cty.Value
}

func newValues(vars map[string]cty.Value) *values {
	return &values{vars: vars, locals: map[string]cty.Value{}, hosts: map[string]cty.Value{}, resources: map[addrs.Resource]cty.Value{}}
}

func (v *values) Var(name string) cty.Value {
	if x, ok := v.vars[name]; ok {
		return x
	}
	return cty.DynamicVal
}

func (v *values) Local(name string) cty.Value { return v.get(v.locals, name) }
func (v *values) Host(name string) cty.Value  { return v.get(v.hosts, name) }

func (v *values) get(m map[string]cty.Value, name string) cty.Value {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if x, ok := m[name]; ok {
		return x
	}
	return cty.DynamicVal
}

func (v *values) Resource(addr addrs.Resource) cty.Value {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if x, ok := v.resources[addr]; ok {
		return x
	}
	return cty.DynamicVal
}

func (v *values) setLocal(name string, x cty.Value) {
	v.mu.Lock()
	v.locals[name] = x
	v.mu.Unlock()
}

func (v *values) setHost(name string, x cty.Value) {
	v.mu.Lock()
	v.hosts[name] = x
	v.mu.Unlock()
}

func (v *values) setResource(addr addrs.Resource, x cty.Value) {
	v.mu.Lock()
	v.resources[addr] = x
	v.mu.Unlock()
}

// instanceValue is one instance's value as references see it.
type instanceValue struct {
	key       addrs.Key
	val       cty.Value
	sensitive []cty.Path
}

// resourceValue assembles the value of a whole resource from its instances:
// the object itself without count or for_each, a tuple by index with
// count, an object by key with for_each.
func resourceValue(expansion expansionKind, insts []instanceValue) cty.Value {
	marked := func(iv instanceValue) cty.Value {
		if len(iv.sensitive) == 0 {
			return iv.val
		}
		return markPaths(iv.val, iv.sensitive)
	}
	switch expansion {
	case expandCount:
		sort.Slice(insts, func(i, j int) bool { return insts[i].key.Int < insts[j].key.Int })
		vals := make([]cty.Value, len(insts))
		for i, iv := range insts {
			vals[i] = marked(iv)
		}
		return cty.TupleVal(vals)
	case expandForEach:
		m := make(map[string]cty.Value, len(insts))
		for _, iv := range insts {
			m[iv.key.Str] = marked(iv)
		}
		return cty.ObjectVal(m)
	}
	if len(insts) == 0 {
		return cty.DynamicVal
	}
	return marked(insts[0])
}

// resourceValueFromState builds a resource's value from what the state
// holds, for resources this run does not plan (targeting, refresh-only).
func resourceValueFromState(s *state.State, addr addrs.Resource) cty.Value {
	return resourceValueFromInstances(s.Resource(addr))
}

func resourceValueFromInstances(insts []*state.Instance) cty.Value {
	kind := expandNone
	ivs := make([]instanceValue, 0, len(insts))
	for _, in := range insts {
		switch in.Addr.Key.Kind {
		case addrs.IntKey:
			kind = expandCount
		case addrs.StrKey:
			kind = expandForEach
		}
		ivs = append(ivs, instanceValue{key: in.Addr.Key, val: in.Attrs, sensitive: in.SensitivePaths})
	}
	return resourceValue(kind, ivs)
}

type expansionKind int

const (
	expandNone expansionKind = iota
	expandCount
	expandForEach
)

func markPaths(v cty.Value, paths []cty.Path) cty.Value {
	pvm := make([]cty.PathValueMarks, len(paths))
	for i, p := range paths {
		pvm[i] = cty.PathValueMarks{Path: p, Marks: cty.NewValueMarks(lang.SensitiveMark)}
	}
	return v.MarkWithPaths(pvm)
}
