package lang

import (
	"fmt"

	"github.com/drover-dr/drover/internal/suggest"
	"github.com/hashicorp/hcl/v2"
)

// declares tells whether cfg declares what ref names; references to count,
// each, path, self and steps name nothing declared at the top level and
// are checked where they are evaluated.
func (cfg *Config) declares(ref Ref) bool {
	switch ref.Kind {
	case RefVar:
		return cfg.Variables[ref.Name] != nil
	case RefLocal:
		return cfg.Locals[ref.Name] != nil
	case RefHost:
		return cfg.Hosts[ref.Name] != nil
	case RefResource:
		return cfg.Resources[ref.Resource] != nil
	}
	return true
}

// UndeclaredRef is the diagnostic for a reference to a variable, local,
// host or resource that cfg does not declare, suggesting the nearest name
// of the same kind.
func (cfg *Config) UndeclaredRef(ref Ref) *hcl.Diagnostic {
	var kind, name string
	var candidates []string
	switch ref.Kind {
	case RefVar:
		kind, name = "variable", ref.Name
		for n := range cfg.Variables {
			candidates = append(candidates, n)
		}
	case RefLocal:
		kind, name = "local value", ref.Name
		for n := range cfg.Locals {
			candidates = append(candidates, n)
		}
	case RefHost:
		kind, name = "host", ref.Name
		for n := range cfg.Hosts {
			candidates = append(candidates, n)
		}
	default:
		kind, name = "resource", ref.Resource.String()
		for a := range cfg.Resources {
			if a.Mode == ref.Resource.Mode {
				candidates = append(candidates, a.String())
			}
		}
	}
	detail := fmt.Sprintf("There is no %s named %q in this configuration.", kind, name)
	if s := suggest.Nearest(name, candidates); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	} else {
		detail += " Declare it, or correct the reference."
	}
	rng := ref.Range
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Reference to undeclared " + kind, Detail: detail, Subject: &rng}
}
