package lang

import (
	"fmt"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
)

// Moved is a `moved` block: the objects recorded at From are now what the
// configuration declares at To. A resource address moves every instance,
// keeping its key; an instance address moves one.
type Moved struct {
	From, To  addrs.Instance
	DeclRange hcl.Range
}

// Resources reports whether the block moves whole resources.
func (m *Moved) Resources() bool {
	return m.From.Key.Kind == addrs.NoKey && m.To.Key.Kind == addrs.NoKey
}

var movedSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "from", Required: true},
		{Name: "to", Required: true},
	},
}

func (cfg *Config) decodeMoved(block *hcl.Block) hcl.Diagnostics {
	content, diags := bodyContent(block.Body, movedSchema)
	if diags.HasErrors() {
		return diags
	}
	m := &Moved{DeclRange: block.DefRange}
	for name, dst := range map[string]*addrs.Instance{"from": &m.From, "to": &m.To} {
		a, problem := cfg.addressAttr(content.Attributes[name])
		if problem != "" {
			return append(diags, blockError("moved", content.Attributes[name].Expr.Range(), problem))
		}
		*dst = a
	}
	switch {
	case m.From.Mode == addrs.Data || m.To.Mode == addrs.Data:
		return append(diags, blockError("moved", m.DeclRange, "Data sources are read, not kept: they have nothing to move."))
	case m.From.Type != m.To.Type:
		return append(diags, blockError("moved", m.DeclRange, fmt.Sprintf("%s and %s are of different types; a moved object keeps its type.", m.From, m.To)))
	case m.From == m.To:
		return append(diags, blockError("moved", m.DeclRange, fmt.Sprintf("%s moves to itself.", m.From)))
	}
	cfg.Moved = append(cfg.Moved, m)
	return diags
}

// checkMoved checks the moved blocks against the resources declared: a
// move leads to a declared resource, a resource moved whole is no longer
// declared, no object moves twice and no two objects move to one address.
func (cfg *Config) checkMoved() hcl.Diagnostics {
	moves, diags := firstOfEach("moved", cfg.Moved, func(m *Moved) (addrs.Instance, hcl.Range) { return m.From, m.DeclRange },
		"%s is moved by two moved blocks; the first is at %s. An object moves once: remove one of them.")
	moves, d := firstOfEach("moved", moves, func(m *Moved) (addrs.Instance, hcl.Range) { return m.To, m.DeclRange },
		"Two moved blocks lead to %s; the first is at %s. One address holds one object: remove one of them.")
	diags = append(diags, d...)
	for _, m := range moves {
		if _, ok := cfg.Resources[m.To.Resource]; !ok {
			diags = append(diags, blockError("moved", m.DeclRange, fmt.Sprintf("%s is not declared: a moved block leads to a resource block of the configuration.", m.To.Resource)))
		}
		if _, ok := cfg.Resources[m.From.Resource]; ok && m.Resources() {
			diags = append(diags, blockError("moved", m.DeclRange, fmt.Sprintf("%s is still declared: remove its resource block, or move single instances (%s[KEY]).", m.From.Resource, m.From.Resource)))
		}
	}
	return diags
}
