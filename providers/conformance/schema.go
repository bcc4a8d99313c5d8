package conformance

import (
	"fmt"

	"github.com/drover-dr/drover/providers/schema"
	"github.com/zclconf/go-cty/cty"
)

// checkProvider lists what is wrong with a provider schema.
func checkProvider(s *schema.Provider) []string {
	var problems []string
	if s.Config != nil {
		problems = append(problems, checkBlock("provider configuration", s.Config)...)
	}
	kinds := []struct {
		kind  string
		types map[string]*schema.Resource
	}{{"resource type", s.ResourceTypes}, {"data source", s.DataSources}}
	for _, k := range kinds {
		for _, name := range sortedNames(k.types) {
			where := fmt.Sprintf("%s %q", k.kind, name)
			rs := k.types[name]
			switch {
			case !identifier.MatchString(name):
				problems = append(problems, where+": the name is not an identifier (lowercase letters, digits, underscores)")
			case rs == nil || rs.Block == nil:
				problems = append(problems, where+": no schema block")
				continue
			}
			problems = append(problems, checkBlock(where, rs.Block)...)
		}
	}
	for _, name := range sortedNames(s.Actions) {
		where := fmt.Sprintf("action %q", name)
		a := s.Actions[name]
		switch {
		case !identifier.MatchString(name):
			problems = append(problems, where+": the name is not an identifier (lowercase letters, digits, underscores)")
		case a == nil:
			problems = append(problems, where+": no schema")
		case a.Args != nil:
			problems = append(problems, checkBlock(where+" arguments", a.Args)...)
		}
	}
	if len(s.ResourceTypes)+len(s.DataSources)+len(s.Actions) == 0 {
		problems = append(problems, "the provider declares no resource type, data source or action")
	}
	return problems
}

func checkBlock(where string, b *schema.Block) []string {
	var problems []string
	for _, name := range sortedNames(b.Attributes) {
		a := b.Attributes[name]
		at := fmt.Sprintf("%s: attribute %q", where, name)
		if a == nil {
			problems = append(problems, at+": no schema")
			continue
		}
		if !identifier.MatchString(name) {
			problems = append(problems, at+": the name is not an identifier")
		}
		if a.Type == cty.NilType {
			problems = append(problems, at+": no type")
		}
		switch {
		case a.Required && (a.Optional || a.Computed):
			problems = append(problems, at+": required, so neither optional nor computed")
		case !a.Required && !a.Optional && !a.Computed:
			problems = append(problems, at+": none of required, optional or computed")
		}
		if a.ForceNew && !a.Required && !a.Optional {
			problems = append(problems, at+": forces replacement but cannot be configured")
		}
		if _, ok := b.BlockTypes[name]; ok {
			problems = append(problems, at+": also a nested block type")
		}
	}
	for _, name := range sortedNames(b.BlockTypes) {
		nb := b.BlockTypes[name]
		at := fmt.Sprintf("%s: block %q", where, name)
		if nb == nil {
			problems = append(problems, at+": no schema")
			continue
		}
		if !identifier.MatchString(name) {
			problems = append(problems, at+": the name is not an identifier")
		}
		switch {
		case nb.Nesting < schema.NestingSingle || nb.Nesting > schema.NestingMap:
			problems = append(problems, fmt.Sprintf("%s: unknown nesting %d", at, nb.Nesting))
		case nb.MinItems < 0 || nb.MaxItems < 0 || nb.MaxItems > 0 && nb.MinItems > nb.MaxItems:
			problems = append(problems, fmt.Sprintf("%s: item bounds %d..%d make no sense", at, nb.MinItems, nb.MaxItems))
		case nb.Nesting == schema.NestingSingle && (nb.MinItems > 1 || nb.MaxItems > 1):
			problems = append(problems, at+": a single block cannot have more than one item")
		}
		problems = append(problems, checkBlock(at, &nb.Block)...)
	}
	return problems
}
