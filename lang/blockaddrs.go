package lang

import (
	"fmt"

	"github.com/drover-dr/drover/addrs"
	"github.com/hashicorp/hcl/v2"
)

// The moved, import and removed blocks name resources by address and
// report their mistakes alike.

// addressAttr reads an attribute written as a resource or instance address
// (a moved block's from and to, an import block's to); problem says what
// is wrong with it, or is "".
func (cfg *Config) addressAttr(attr *hcl.Attribute) (a addrs.Instance, problem string) {
	trav, d := hcl.AbsTraversalForExpr(attr.Expr)
	if d.HasErrors() {
		return a, attr.Name + " must be a resource address, like value.x or value.x[0]."
	}
	rng := attr.Expr.Range()
	a, err := addrs.ParseInstanceTraversal(string(rng.SliceBytes(cfg.Files[rng.Filename].Bytes)), trav)
	if err != nil {
		return a, err.Error() + "."
	}
	return a, ""
}

// firstOfEach keeps the first of the blocks of kind that name one address
// (key) and reports each later one with detail, given the address and
// where the first is.
func firstOfEach[B any, K fmt.Stringer](kind string, blocks []B, key func(B) (K, hcl.Range), detail string) ([]B, hcl.Diagnostics) {
	var kept []B
	var diags hcl.Diagnostics
	first := map[string]hcl.Range{}
	for _, b := range blocks {
		k, rng := key(b)
		if prev, ok := first[k.String()]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + kind + " block",
				Detail:  fmt.Sprintf(detail, k, shortRange(prev)),
				Subject: rng.Ptr(), Extra: RelatedRange{Label: "first " + kind, Range: prev}})
			continue
		}
		first[k.String()] = rng
		kept = append(kept, b)
	}
	return kept, diags
}

// blockError reports a mistake in a block of kind.
func blockError(kind string, rng hcl.Range, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + kind + " block", Detail: detail, Subject: rng.Ptr()}
}
