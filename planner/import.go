package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

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
	if !utf8.ValidString(path) {
		// JSON would carry it with U+FFFD in place of the bad bytes: another path.
		return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid import ID",
			Detail: fmt.Sprintf("The path of %q is not valid UTF-8; Drover reaches only paths whose names are.", id)}}
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

// importBlocks finds the objects the configuration's import blocks name
// and puts them into prior, where the state has nothing at their address
// yet and --target, if given, names them: the plan then refreshes them and plans them against their
// configuration as any object already managed. It returns the ID each
// was found by.
func importBlocks(ctx context.Context, cfg *lang.Config, opts Options, prior *state.State) (map[addrs.Instance]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	imported := map[addrs.Instance]string{}
	scope := &lang.Scope{Data: newValues(opts.Variables), BaseDir: cfg.Dir}
	for _, im := range cfg.Imports {
		if prior.Instance(im.To) != nil || !targeted(opts.Targets, im.To) {
			continue
		}
		v, d := scope.EvalExpr(im.ID, cty.String)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v, _ = v.UnmarkDeep()
		if v.IsNull() || !v.IsKnown() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid import block",
				Detail: "The import ID is null or not known while planning.", Subject: im.ID.Range().Ptr()})
			continue
		}
		id, d := ImportID(cfg, opts.Variables, v.AsString())
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		inst, d := Import(ctx, opts.Providers, im.To, cfg.Resources[im.To.Resource].Provider, id)
		for _, dd := range d {
			if dd.Subject == nil {
				dd.Subject = im.DeclRange.Ptr()
			}
		}
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		prior.Set(inst)
		imported[im.To] = v.AsString()
	}
	return imported, diags
}

// importsDeclared reports the objects imported into addr that its count or
// for_each does not declare: planned as they are, they would be destroyed
// as soon as they were imported.
func (r *run) importsDeclared(addr addrs.Resource, exp expansion) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, im := range r.cfg.Imports {
		if im.To.Resource != addr || r.imported[im.To] == "" || slices.Contains(exp.keys, im.To.Key) {
			continue
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Import target not declared",
			Detail: fmt.Sprintf("%s is not one of the instances %s declares (its count or for_each): the object would be destroyed as it is imported. "+
				"Import into an instance it declares.", im.To, addr),
			Subject: im.DeclRange.Ptr()})
	}
	return diags
}
