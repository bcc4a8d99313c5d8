package lang

import (
	"fmt"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
)

// Import is an `import` block: the next plan takes the existing object
// that ID names under management at To, unless the state holds To
// already. ID is an expression of literals and variables, known while
// planning.
type Import struct {
	To        addrs.Instance
	ID        hcl.Expression
	DeclRange hcl.Range
}

var importSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "to", Required: true},
		{Name: "id", Required: true},
	},
}

func (cfg *Config) decodeImport(block *hcl.Block) hcl.Diagnostics {
	content, diags := bodyContent(block.Body, importSchema)
	if diags.HasErrors() {
		return diags
	}
	to := content.Attributes["to"]
	a, problem := cfg.addressAttr(to)
	if problem != "" {
		return append(diags, blockError("import", to.Expr.Range(), problem))
	}
	if a.Mode == addrs.Data {
		return append(diags, blockError("import", to.Expr.Range(), "Data sources are read, not imported."))
	}
	id := content.Attributes["id"].Expr
	for _, t := range id.Variables() {
		if t.RootName() != "var" {
			return append(diags, blockError("import", t.SourceRange(), "An import ID must be known before anything is planned: use literals and variables only."))
		}
	}
	cfg.Imports = append(cfg.Imports, &Import{To: a, ID: id, DeclRange: block.DefRange})
	return diags
}

// checkImports checks that each import block leads to a declared resource
// and that no two lead to one address.
func (cfg *Config) checkImports() hcl.Diagnostics {
	imports, diags := firstOfEach("import", cfg.Imports, func(im *Import) (addrs.Instance, hcl.Range) { return im.To, im.DeclRange },
		"Two import blocks lead to %s; the first is at %s. Remove one of them.")
	for _, im := range imports {
		if _, ok := cfg.Resources[im.To.Resource]; !ok {
			diags = append(diags, blockError("import", im.DeclRange, fmt.Sprintf("%s is not declared: declare the resource block the object is to match.", im.To.Resource)))
		}
	}
	return diags
}
