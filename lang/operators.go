package lang

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// HCL's && and || settle the answer from one side when it can, and there a
// null counts as false: `true && null` is false and `null || true` true.
// A null is not a bool, and Terraform refuses it as an operand; so does
// Drover: with a null on either side the shortcut is skipped, and the
// operation itself refuses the null. The operators are HCL's shared
// values, so this holds for every expression the process evaluates.
func init() {
	for _, op := range []*hclsyntax.Operation{hclsyntax.OpLogicalAnd, hclsyntax.OpLogicalOr} {
		shortCircuit := op.ShortCircuit
		op.ShortCircuit = func(lhs, rhs cty.Value, lhsDiags, rhsDiags hcl.Diagnostics) (cty.Value, hcl.Diagnostics) {
			if lhs.IsKnown() && lhs.IsNull() || rhs.IsKnown() && rhs.IsNull() {
				return cty.NilVal, nil
			}
			return shortCircuit(lhs, rhs, lhsDiags, rhsDiags)
		}
	}
}
