package lang

import (
	"fmt"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
)

// Removed is a `removed` block: the resource at From has left the
// configuration, and with Destroy false its objects are forgotten (taken
// out of the state, left as they are) instead of destroyed.
type Removed struct {
	From      addrs.Resource
	Destroy   bool
	DeclRange hcl.Range
}

var removedSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "from", Required: true}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "lifecycle"}},
}

var removedLifecycleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "destroy", Required: true}},
}

func (cfg *Config) decodeRemoved(block *hcl.Block) hcl.Diagnostics {
	content, diags := bodyContent(block.Body, removedSchema)
	if diags.HasErrors() {
		return diags
	}
	from := content.Attributes["from"]
	a, problem := cfg.addressAttr(from)
	switch {
	case problem != "":
	case a.Key.Kind != addrs.NoKey:
		problem = "from names a whole resource, without an instance key: all its objects leave together."
	case a.Mode == addrs.Data:
		problem = "Data sources are read, not kept: there is nothing to remove."
	}
	if problem != "" {
		return append(diags, blockError("removed", from.Expr.Range(), problem))
	}
	r := &Removed{From: a.Resource, Destroy: true, DeclRange: block.DefRange}
	for _, lb := range content.Blocks {
		lc, d := bodyContent(lb.Body, removedLifecycleSchema)
		diags = append(diags, d...)
		setBool(lc.Attributes, "destroy", &r.Destroy, &diags)
	}
	cfg.Removed = append(cfg.Removed, r)
	return diags
}

// checkRemoved checks that a removed resource is no longer declared and
// is removed once.
func (cfg *Config) checkRemoved() hcl.Diagnostics {
	removed, diags := firstOfEach("removed", cfg.Removed, func(r *Removed) (addrs.Resource, hcl.Range) { return r.From, r.DeclRange },
		"%s is removed by two removed blocks; the first is at %s. Remove one of them.")
	for _, r := range removed {
		if _, ok := cfg.Resources[r.From]; ok {
			diags = append(diags, blockError("removed", r.DeclRange, fmt.Sprintf("%s is still declared: remove its resource block, or this removed block.", r.From)))
		}
	}
	return diags
}
