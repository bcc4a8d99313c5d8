package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/internal/plural"
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
	scope := &lang.Scope{Data: newValues(opts.Variables), BaseDir: cfg.Dir, PlanTime: opts.PlanTime}
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
// for_each does not declare.
func (r *run) importsDeclared(addr addrs.Resource, exp expansion) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, im := range r.cfg.Imports {
		if im.To.Resource != addr || r.imported[im.To] == "" {
			continue
		}
		if d := undeclaredInstance(im.To, exp, im.DeclRange); d != nil {
			diags = append(diags, d)
		}
	}
	return diags
}

// undeclaredInstance reports addr when exp, the expansion of its resource,
// does not declare it: imported there, the object would be destroyed by
// the next plan, as an instance the configuration no longer has (and with
// it a file another instance may manage).
func undeclaredInstance(addr addrs.Instance, exp expansion, subject hcl.Range) *hcl.Diagnostic {
	if slices.Contains(exp.keys, addr.Key) {
		return nil
	}
	how := "declares no instance keys: import into " + addr.Resource.String()
	switch exp.kind {
	case expandCount:
		how = fmt.Sprintf("declares %s with count: import into %s[N], N below %d", plural.Count(len(exp.keys), "instance"), addr.Resource, len(exp.keys))
	case expandForEach:
		keys := make([]string, len(exp.keys))
		for i, k := range exp.keys {
			keys[i] = fmt.Sprintf("%q", k.Str)
		}
		how = fmt.Sprintf("declares these for_each keys: %s", strings.Join(keys, ", "))
		if len(keys) == 0 {
			how = "declares no instances: its for_each is empty"
		}
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Import target not declared",
		Detail: fmt.Sprintf("%s is not one of the instances %s declares, so the next plan would destroy the object as soon as it is imported. %s %s.",
			addr, addr.Resource, addr.Resource, how),
		Subject: subject.Ptr()}
}

// ImportTarget checks that the configuration declares the instance addr,
// with its count or for_each evaluated over the variables and the state s,
// as the import blocks of a plan are checked: `drover import` calls it
// before it records anything.
func ImportTarget(cfg *lang.Config, vars map[string]cty.Value, s *state.State, addr addrs.Instance) hcl.Diagnostics {
	rc, ok := cfg.Resources[addr.Resource]
	if !ok {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Resource not declared",
			Detail: fmt.Sprintf("Declare resource %q %q in the configuration before importing into %s, so that the next plan knows what it should be.",
				addr.Type, addr.Name, addr)}}
	}
	exp, diags := expand(&lang.Scope{Data: newStateData(cfg, vars, s), BaseDir: cfg.Dir}, rc.Count, rc.ForEach)
	if diags.HasErrors() {
		return diags
	}
	if d := undeclaredInstance(addr, exp, rc.DeclRange); d != nil {
		diags = append(diags, d)
	}
	return diags
}
