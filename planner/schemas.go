package planner

import (
	"context"
	"fmt"
	"sort"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/suggest"
	"github.com/drover-dr/drover/lang"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// resourceSchema is what the planner needs to know about one resource
// block's type, looked up once per run.
type resourceSchema struct {
	provider  string
	client    providers.Provider
	schema    *schema.Resource
	spec      hcldec.Spec
	implied   cty.Type
	sensitive []cty.Path
}

// hostSpec decodes a host block; the name is added from the block label.
var hostSpec = hcldec.ObjectSpec{
	"address":       &hcldec.AttrSpec{Name: "address", Type: cty.String},
	"root":          &hcldec.AttrSpec{Name: "root", Type: cty.String},
	"transport":     &hcldec.AttrSpec{Name: "transport", Type: cty.String},
	"user":          &hcldec.AttrSpec{Name: "user", Type: cty.String},
	"port":          &hcldec.AttrSpec{Name: "port", Type: cty.Number},
	"identity_file": &hcldec.AttrSpec{Name: "identity_file", Type: cty.String},
	"host_key":      &hcldec.AttrSpec{Name: "host_key", Type: cty.String},
	"known_hosts":   &hcldec.AttrSpec{Name: "known_hosts", Type: cty.String},
	"netns":         &hcldec.AttrSpec{Name: "netns", Type: cty.String},
	"agent":         &hcldec.AttrSpec{Name: "agent", Type: cty.Bool},
}

// hostValue completes a decoded host block into a value of host.Type: the
// transport is "ssh" when the block names an address, else "local". Each
// attribute is checked (host.Config.Check) at its line, an address on a
// local host above all: it would act on this machine in place of another,
// and nothing may ever fall back to it silently. Values not known yet are
// left to the plan (and to host.Config.Open, which checks them again).
func hostValue(h *lang.Host, decoded cty.Value) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	attrs := map[string]cty.Value{"name": cty.StringVal(h.Name)}
	for attr, ty := range host.Type.AttributeTypes() {
		if attr == "name" {
			continue
		}
		v := decoded.GetAttr(attr)
		if v.IsNull() {
			v = cty.NullVal(ty)
		}
		attrs[attr] = v
	}
	if attrs["transport"].IsNull() {
		switch a, _ := attrs["address"].Unmark(); {
		case !a.IsKnown():
			attrs["transport"] = cty.UnknownVal(cty.String)
		case a.IsNull():
			attrs["transport"] = cty.StringVal("local")
		default:
			attrs["transport"] = cty.StringVal("ssh")
		}
	}
	v := cty.ObjectVal(attrs)
	if !v.IsWhollyKnown() {
		return v, diags
	}
	c, err := host.ConfigFromValue(v)
	if err != nil {
		return v, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid host",
			Detail: fmt.Sprintf("Host %q: %s.", h.Name, err), Subject: h.DeclRange.Ptr()})
	}
	for _, e := range c.Check() {
		subject := attrRange(h.Config, cty.GetAttrPath(e.Attr))
		if subject == nil {
			subject = h.DeclRange.Ptr()
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid host " + e.Attr, Detail: e.Detail, Subject: subject})
	}
	return v, diags
}

// lookupSchemas resolves the provider of every resource in cfg (and every
// type in extra, e.g. orphaned state) and fetches its schema.
func lookupSchemas(ctx context.Context, reg *providers.Registry, cfg *lang.Config) (map[addrs.Resource]resourceSchema, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := make(map[addrs.Resource]resourceSchema, len(cfg.Resources))
	byType := map[string]resourceSchema{}
	addrsSorted := make([]addrs.Resource, 0, len(cfg.Resources))
	for a := range cfg.Resources {
		addrsSorted = append(addrsSorted, a)
	}
	sort.Slice(addrsSorted, func(i, j int) bool { return addrsSorted[i].String() < addrsSorted[j].String() })
	for _, addr := range addrsSorted {
		r := cfg.Resources[addr]
		key := string(addr.Mode) + r.Provider + "|" + addr.Type
		if rs, ok := byType[key]; ok {
			out[addr] = rs
			continue
		}
		rs, d := typeSchema(ctx, reg, addr.Mode, addr.Type, r.Provider, r.TypeRange)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		byType[key] = rs
		out[addr] = rs
	}
	return out, diags
}

// typeSchema resolves one type to its provider and schema.
func typeSchema(ctx context.Context, reg *providers.Registry, mode addrs.Mode, typeName, explicit string, rng hcl.Range) (resourceSchema, hcl.Diagnostics) {
	name, ok := reg.Resolve(typeName, explicit)
	if !ok {
		detail := fmt.Sprintf("No available provider serves %q.", typeName)
		if s := suggest.Nearest(typeName, reg.Types()); s != "" && explicit == "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		return resourceSchema{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown resource type",
			Detail: detail + " Run `drover providers` to list the providers and the types they serve; " +
				"a third-party provider must be listed in required_providers and installed with `drover init`.",
			Subject: rng.Ptr(),
		}}
	}
	client, ps, err := reg.Get(ctx, name)
	if err != nil {
		return resourceSchema{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Provider failed to start",
			Detail:   err.Error(),
			Subject:  rng.Ptr(),
		}}
	}
	types := ps.ResourceTypes
	kind := "resource type"
	if mode == addrs.Data {
		types, kind = ps.DataSources, "data source"
	}
	rs, ok := types[typeName]
	if !ok {
		var names []string
		for n := range types {
			names = append(names, n)
		}
		detail := fmt.Sprintf("Provider %q has no %s %q.", name, kind, typeName)
		if s := suggest.Nearest(typeName, names); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		return resourceSchema{}, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown " + kind, Detail: detail, Subject: rng.Ptr()}}
	}
	return resourceSchema{
		provider:  name,
		client:    client,
		schema:    rs,
		spec:      rs.Block.DecoderSpec(),
		implied:   rs.Block.ImpliedType(),
		sensitive: rs.Block.SensitivePaths(),
	}, nil
}
