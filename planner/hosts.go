package planner

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/drover-dr/drover/lang"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Host evaluates the host block called name, with the variables and
// locals it refers to, into a value of host.Type: what commands that act on
// one host outside plan and apply (`drover registry import --host fs2`)
// pass to a provider action.
func Host(cfg *lang.Config, vars map[string]cty.Value, name string) (cty.Value, hcl.Diagnostics) {
	if _, ok := cfg.Hosts[name]; !ok {
		names := slices.Sorted(maps.Keys(cfg.Hosts))
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown host",
			Detail: fmt.Sprintf("The configuration has no host %q; its hosts are: %s.", name, strings.Join(names, ", "))}}
	}
	e := &staticEval{cfg: cfg, vals: newValues(vars), done: map[node]bool{}}
	diags := e.host(name, fmt.Sprintf("host %q", name))
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	v, _ := e.vals.Host(name).UnmarkDeep()
	if !v.IsWhollyKnown() {
		return cty.NilVal, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Host not known",
			Detail:  fmt.Sprintf("Host %q holds values that are not known until apply.", name),
			Subject: cfg.Hosts[name].DeclRange.Ptr()})
	}
	return v, diags
}
