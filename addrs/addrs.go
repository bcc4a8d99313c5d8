package addrs

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Mode tells managed resources (resource blocks) from data sources (data blocks).
type Mode byte

const (
	Managed Mode = 'M'
	Data    Mode = 'D'
)

// Resource names a resource block: `type.name` or `data.type.name`.
type Resource struct {
	Mode Mode
	Type string
	Name string
}

func (r Resource) String() string {
	if r.Mode == Data {
		return "data." + r.Type + "." + r.Name
	}
	return r.Type + "." + r.Name
}

// Instance returns the address of one instance of r.
func (r Resource) Instance(k Key) Instance { return Instance{Resource: r, Key: k} }

// KeyKind tells which field of a Key is in use.
type KeyKind byte

const (
	NoKey  KeyKind = 0
	IntKey KeyKind = 'I'
	StrKey KeyKind = 'S'
)

// Key selects one instance of a resource: none (single instance), an
// integer (count) or a string (for_each).
type Key struct {
	Kind KeyKind
	Int  int
	Str  string
}

// IntK and StrK build keys.
func IntK(i int) Key    { return Key{Kind: IntKey, Int: i} }
func StrK(s string) Key { return Key{Kind: StrKey, Str: s} }

func (k Key) String() string {
	switch k.Kind {
	case IntKey:
		return "[" + strconv.Itoa(k.Int) + "]"
	case StrKey:
		// HCL's quoting, not Go's: the text is typed back as an address,
		// and HCL has no syntax for Go's \x escapes and reads "${" as a
		// template.
		return "[" + string(hclwrite.TokensForValue(cty.StringVal(k.Str)).Bytes()) + "]"
	}
	return ""
}

// Less orders keys: no key, then integers ascending, then strings.
func (k Key) Less(o Key) bool {
	if k.Kind != o.Kind {
		return k.Kind < o.Kind
	}
	if k.Kind == IntKey {
		return k.Int < o.Int
	}
	return k.Str < o.Str
}

// Instance names one instance of a resource, e.g. `value.x[3]`.
type Instance struct {
	Resource
	Key Key
}

func (i Instance) String() string { return i.Resource.String() + i.Key.String() }

// Less is the canonical order of instances in plans, state and output.
func (i Instance) Less(o Instance) bool {
	if i.Resource != o.Resource {
		return i.Resource.String() < o.Resource.String()
	}
	return i.Key.Less(o.Key)
}

// ParseInstance reads an address as users write it on the command line:
// `value.x`, `value.x[3]`, `file.cfg["a"]`, `data.value.y`.
func ParseInstance(s string) (Instance, error) {
	trav, diags := hclsyntax.ParseTraversalAbs([]byte(s), "address", hcl.InitialPos)
	if diags.HasErrors() {
		return Instance{}, fmt.Errorf("invalid address %q: %s", s, diags[0].Detail)
	}
	return instanceFromTraversal(s, trav)
}

// ParseInstanceTraversal reads an address written as a reference in the
// configuration (a moved block's from and to); text is the source the
// traversal was read from, for messages.
func ParseInstanceTraversal(text string, trav hcl.Traversal) (Instance, error) {
	return instanceFromTraversal(text, trav)
}

// Move is a change of address: the object at From is now at To.
type Move struct {
	From, To Instance
}

func (m Move) String() string { return m.From.String() + " -> " + m.To.String() }

// ParseResource reads `type.name` or `data.type.name` without an instance key.
func ParseResource(s string) (Resource, error) {
	inst, err := ParseInstance(s)
	if err != nil {
		return Resource{}, err
	}
	if inst.Key.Kind != NoKey {
		return Resource{}, fmt.Errorf("invalid address %q: a resource address takes no instance key here", s)
	}
	return inst.Resource, nil
}

func instanceFromTraversal(s string, trav hcl.Traversal) (Instance, error) {
	var names []string
	var key Key
	for i, step := range trav {
		switch st := step.(type) {
		case hcl.TraverseRoot:
			names = append(names, st.Name)
		case hcl.TraverseAttr:
			names = append(names, st.Name)
		case hcl.TraverseIndex:
			if i != len(trav)-1 {
				return Instance{}, fmt.Errorf("invalid address %q: the instance key must come last", s)
			}
			k, err := keyFromIndex(st)
			if err != nil {
				return Instance{}, fmt.Errorf("invalid address %q: %w", s, err)
			}
			key = k
		default:
			return Instance{}, fmt.Errorf("invalid address %q", s)
		}
	}
	var r Resource
	switch {
	case len(names) == 3 && names[0] == "data":
		r = Resource{Mode: Data, Type: names[1], Name: names[2]}
	case len(names) == 2:
		r = Resource{Mode: Managed, Type: names[0], Name: names[1]}
	default:
		return Instance{}, fmt.Errorf("invalid address %q: expected TYPE.NAME, TYPE.NAME[KEY] or data.TYPE.NAME", s)
	}
	return Instance{Resource: r, Key: key}, nil
}

func keyFromIndex(st hcl.TraverseIndex) (Key, error) {
	v := st.Key
	if v.IsNull() || !v.IsKnown() {
		return Key{}, fmt.Errorf("instance key must be a number or a string")
	}
	switch {
	case v.Type().FriendlyName() == "number":
		bf := v.AsBigFloat()
		i, acc := bf.Int64()
		if acc != 0 || i < 0 {
			return Key{}, fmt.Errorf("instance key must be a whole number")
		}
		return IntK(int(i)), nil
	case v.Type().FriendlyName() == "string":
		return StrK(v.AsString()), nil
	}
	return Key{}, fmt.Errorf("instance key must be a number or a string")
}
