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
		return append(diags, importError(to.Expr.Range(), problem))
	}
	if a.Mode == addrs.Data {
		return append(diags, importError(to.Expr.Range(), "Data sources are read, not imported."))
	}
	id := content.Attributes["id"].Expr
	for _, t := range id.Variables() {
		if t.RootName() != "var" {
			return append(diags, importError(t.SourceRange(), "An import ID must be known before anything is planned: use literals and variables only."))
		}
	}
	cfg.Imports = append(cfg.Imports, &Import{To: a, ID: id, DeclRange: block.DefRange})
	return diags
}

// checkImports checks that each import block leads to a declared resource
// and that no two lead to one address.
func (cfg *Config) checkImports() hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[addrs.Instance]*Import{}
	for _, im := range cfg.Imports {
		if prev, ok := seen[im.To]; ok {
			diags = append(diags, twoBlocks("import", im.DeclRange, prev.DeclRange,
				fmt.Sprintf("Two import blocks lead to %s; the first is at %s. Remove one of them.", im.To, shortRange(prev.DeclRange))))
			continue
		}
		seen[im.To] = im
		if _, ok := cfg.Resources[im.To.Resource]; !ok {
			diags = append(diags, importError(im.DeclRange, fmt.Sprintf("%s is not declared: declare the resource block the object is to match.", im.To.Resource)))
		}
	}
	return diags
}

func importError(rng hcl.Range, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid import block", Detail: detail, Subject: rng.Ptr()}
}
