package planner

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/planner/plan"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// CheckSaved re-derives from the configuration what a saved plan holds
// but the configuration decides, and refuses the plan where they differ:
// every host a planned value names must be the configuration's host of
// that name, value for value (hosts decide where changes land), every
// change must go to the provider that serves its resource, and every
// planned value must have the type that provider's schema gives it, with
// every attribute the schema requires.
//
// A seal (plan.Open) already refuses a plan edited after it was saved;
// this check keeps hosts decided by the configuration alone even for a
// plan sealed with the workspace's key. opts.Variables are the plan's.
func CheckSaved(ctx context.Context, cfg *lang.Config, opts Options, p *plan.Plan) hcl.Diagnostics {
	var diags hcl.Diagnostics
	hosts := map[string]cty.Value{}
	schemas := map[addrs.Resource]resourceSchema{}
	for _, c := range p.Changes {
		if c.Action == plan.Delete {
			// The object is gone from the configuration, or leaves it:
			// the state, not the configuration, says where it is.
			continue
		}
		rc, ok := cfg.Resources[c.Addr.Resource]
		if !ok {
			diags = append(diags, savedDiag(fmt.Sprintf("The plan changes %s, which the configuration does not declare.", c.Addr)))
			continue
		}
		rs, ok := schemas[rc.Addr]
		if !ok {
			var d hcl.Diagnostics
			if rs, d = typeSchema(ctx, opts.Providers, rc.Addr.Mode, rc.Addr.Type, rc.Provider, rc.TypeRange); d.HasErrors() {
				diags = append(diags, d...)
				continue
			}
			schemas[rc.Addr] = rs
		}
		if c.Provider != rs.provider {
			diags = append(diags, savedDiag(fmt.Sprintf("The plan sends %s to provider %q; the configuration's provider for it is %q.", c.Addr, c.Provider, rs.provider)))
		}
		if c.After == cty.NilVal || c.After.Type().TestConformance(rs.implied) != nil {
			diags = append(diags, savedDiag(fmt.Sprintf("The planned value of %s does not have the type the %s schema of %q gives it.", c.Addr, rs.provider, c.Addr.Type)))
			continue
		}
		if !c.After.IsNull() && c.After.IsKnown() {
			for _, name := range slices.Sorted(maps.Keys(rs.schema.Block.Attributes)) {
				if rs.schema.Block.Attributes[name].Required && c.After.GetAttr(name).IsNull() {
					diags = append(diags, savedDiag(fmt.Sprintf("The planned value of %s has no %s, which the %s schema of %q requires.", c.Addr, name, rs.provider, c.Addr.Type)))
				}
			}
		}
		cty.Walk(c.After, func(path cty.Path, v cty.Value) (bool, error) {
			if !v.Type().Equals(host.Type) || !v.IsKnown() || v.IsNull() {
				return true, nil
			}
			name := v.GetAttr("name")
			if !name.IsKnown() || name.IsNull() {
				diags = append(diags, savedDiag(fmt.Sprintf("A host in the planned value of %s has no name.", c.Addr)))
				return false, nil
			}
			want, ok := hosts[name.AsString()]
			if !ok {
				var d hcl.Diagnostics
				if want, d = Host(cfg, opts.Variables, name.AsString()); d.HasErrors() {
					diags = append(diags, savedDiag(fmt.Sprintf("The planned value of %s names host %q: %s", c.Addr, name.AsString(), d[0].Detail)))
					return false, nil
				}
				hosts[name.AsString()] = want
			}
			if !v.RawEquals(want) {
				diags = append(diags, savedDiag(fmt.Sprintf("The planned value of %s holds host %q as %s; the configuration says %s.",
					c.Addr, name.AsString(), hostString(v), hostString(want))))
			}
			return false, nil
		})
	}
	return diags
}

func savedDiag(detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Saved plan does not match the configuration",
		Detail: detail + " Nothing was applied; plan again and review the plan."}
}

// hostString shows the attributes of a host value that are set.
func hostString(v cty.Value) string {
	s := "{"
	for _, k := range []string{"transport", "address", "port", "user", "root"} {
		a := v.GetAttr(k)
		if a.IsNull() || !a.IsKnown() {
			continue
		}
		if len(s) > 1 {
			s += ", "
		}
		if a.Type() == cty.Number {
			s += fmt.Sprintf("%s = %s", k, a.AsBigFloat().Text('f', -1))
		} else {
			s += fmt.Sprintf("%s = %q", k, a.AsString())
		}
	}
	return s + "}"
}
