package schema

import (
	"sort"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Provider is everything one provider declares.
type Provider struct {
	// Config is the schema of the provider's own configuration block; may be empty.
	Config        *Block
	ResourceTypes map[string]*Resource
	DataSources   map[string]*Resource
	Actions       map[string]*Action
}

// Resource is the schema of a resource type or data source.
type Resource struct {
	Version     int64
	Description string
	Block       *Block
	// StateOnly marks a type whose objects exist only in Drover's state
	// (like value): there is nothing outside to read, so refresh skips it.
	StateOnly bool
}

// Action is a runbook action a provider can invoke ("import registry
// file", "reboot host"): its arguments and its result.
type Action struct {
	Description string
	Args        *Block
	Result      cty.Type
}

// Block is a set of attributes and nested blocks.
type Block struct {
	Description string
	Attributes  map[string]*Attribute
	BlockTypes  map[string]*NestedBlock
}

// Attribute is one argument or computed value of a block.
type Attribute struct {
	Type        cty.Type
	Description string
	Required    bool
	Optional    bool
	Computed    bool
	Sensitive   bool
	// ForceNew marks attributes whose change replaces the resource.
	ForceNew bool
}

// Nesting is how many of a nested block may appear and how they are keyed.
type Nesting int

const (
	NestingSingle Nesting = iota
	NestingList
	NestingSet
	NestingMap
)

func (n Nesting) String() string {
	return [...]string{"single", "list", "set", "map"}[n]
}

// NestedBlock is a block type allowed inside a Block.
type NestedBlock struct {
	Block
	Nesting  Nesting
	MinItems int
	MaxItems int
}

// ImpliedType is the object type of a value that conforms to b: every
// attribute, computed ones included, and every nested block.
func (b *Block) ImpliedType() cty.Type {
	attrs := make(map[string]cty.Type, len(b.Attributes)+len(b.BlockTypes))
	for name, a := range b.Attributes {
		attrs[name] = a.Type
	}
	for name, nb := range b.BlockTypes {
		inner := nb.Block.ImpliedType()
		switch nb.Nesting {
		case NestingSingle:
			attrs[name] = inner
		case NestingList:
			attrs[name] = listOrTuple(inner)
		case NestingSet:
			attrs[name] = cty.Set(inner)
		case NestingMap:
			attrs[name] = cty.Map(inner)
		}
	}
	return cty.Object(attrs)
}

// listOrTuple mirrors hcldec: a list of blocks whose type holds a dynamic
// attribute cannot be a list (its elements may differ), so it is a tuple,
// left dynamic until the configuration is known.
func listOrTuple(elem cty.Type) cty.Type {
	if elem.HasDynamicTypes() {
		return cty.DynamicPseudoType
	}
	return cty.List(elem)
}

// DecoderSpec turns b into the hcldec spec that decodes a configuration body.
// Computed-only attributes are in it too, so that the decoded value has the
// block's implied type (they decode as null; setting one is an error that
// validation reports).
func (b *Block) DecoderSpec() hcldec.Spec {
	spec := hcldec.ObjectSpec{}
	for name, a := range b.Attributes {
		spec[name] = &hcldec.AttrSpec{Name: name, Type: a.Type, Required: a.Required}
	}
	for name, nb := range b.BlockTypes {
		child := nb.Block.DecoderSpec()
		switch nb.Nesting {
		case NestingSingle:
			spec[name] = &hcldec.BlockSpec{TypeName: name, Nested: child, Required: nb.MinItems > 0}
		case NestingList:
			spec[name] = &hcldec.BlockListSpec{TypeName: name, Nested: child, MinItems: nb.MinItems, MaxItems: nb.MaxItems}
		case NestingSet:
			spec[name] = &hcldec.BlockSetSpec{TypeName: name, Nested: child, MinItems: nb.MinItems, MaxItems: nb.MaxItems}
		case NestingMap:
			spec[name] = &hcldec.BlockMapSpec{TypeName: name, Nested: child, LabelNames: []string{"key"}}
		}
	}
	return spec
}

// Names lists the attribute and block type names of b that may be written in
// configuration, sorted; used to suggest a name for a misspelt one.
func (b *Block) Names() []string {
	var names []string
	for name, a := range b.Attributes {
		if a.Required || a.Optional {
			names = append(names, name)
		}
	}
	for name := range b.BlockTypes {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// SensitivePaths lists the paths of sensitive attributes of b (top level and
// nested single blocks), for redaction in every output.
func (b *Block) SensitivePaths() []cty.Path {
	var out []cty.Path
	b.sensitivePaths(nil, &out)
	return out
}

func (b *Block) sensitivePaths(prefix cty.Path, out *[]cty.Path) {
	names := make([]string, 0, len(b.Attributes))
	for name := range b.Attributes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if b.Attributes[name].Sensitive {
			*out = append(*out, append(prefix.Copy(), cty.GetAttrStep{Name: name}))
		}
	}
	for name, nb := range b.BlockTypes {
		if nb.Nesting == NestingSingle {
			nb.Block.sensitivePaths(append(prefix.Copy(), cty.GetAttrStep{Name: name}), out)
		}
	}
}
