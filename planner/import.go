package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/state"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Import asks the provider serving addr's type to find the existing object
// that id names, and returns it as a state instance at addr, ready to be
// recorded. Nothing on the host changes.
func Import(ctx context.Context, reg *providers.Registry, addr addrs.Instance, explicitProvider, id string) (*state.Instance, hcl.Diagnostics) {
	name, ok := reg.Resolve(addr.Type, explicitProvider)
	if !ok {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown resource type",
			Detail: fmt.Sprintf("No available provider serves %q; `drover providers` lists what each serves.", addr.Type)}}
	}
	prov, ps, err := reg.Get(ctx, name)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Provider failed to start", Detail: err.Error()}}
	}
	rs, ok := ps.ResourceTypes[addr.Type]
	if !ok {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown resource type",
			Detail: fmt.Sprintf("Provider %q does not serve the resource type %q.", name, addr.Type)}}
	}
	resp := prov.Import(ctx, providers.ImportRequest{TypeName: addr.Type, ID: id})
	var diags hcl.Diagnostics
	for _, d := range resp.Diagnostics {
		sev := hcl.DiagError
		if d.Severity == providers.Warning {
			sev = hcl.DiagWarning
		}
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Summary: d.Summary,
			Detail: fmt.Sprintf("%s\n\n(from provider %q, importing %s)", d.Detail, name, addr)})
	}
	if diags.HasErrors() {
		return nil, diags
	}
	var found []providers.ImportedResource
	for _, imp := range resp.Imported {
		if imp.TypeName == addr.Type {
			found = append(found, imp)
		}
	}
	if len(found) != 1 {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Provider returned an invalid import",
			Detail: fmt.Sprintf("Provider %q returned %d objects of type %q for the ID %q; an import takes exactly one. This is a bug in the provider.",
				name, len(found), addr.Type, id)})
	}
	return &state.Instance{
		Addr:           addr,
		Provider:       name,
		SchemaVersion:  rs.Version,
		Status:         state.Ready,
		Attrs:          found[0].State,
		Private:        found[0].Private,
		SensitivePaths: rs.Block.SensitivePaths(),
	}, diags
}

// ImportID turns an import ID of the form HOST:PATH, HOST a host block of
// cfg, into the form providers take, {"host": HOST's value, "path": PATH}.
// Other IDs are returned as they are.
func ImportID(cfg *lang.Config, vars map[string]cty.Value, id string) (string, hcl.Diagnostics) {
	name, path, ok := strings.Cut(id, ":")
	if !ok || cfg.Hosts[name] == nil {
		return id, nil
	}
	h, diags := Host(cfg, vars, name)
	if diags.HasErrors() {
		return "", diags
	}
	hb, err := ctyjson.Marshal(h, h.Type())
	if err != nil {
		return "", append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid import ID", Detail: err.Error()})
	}
	b, err := json.Marshal(map[string]any{"host": json.RawMessage(hb), "path": path})
	if err != nil {
		return "", append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid import ID", Detail: err.Error()})
	}
	return string(b), diags
}
