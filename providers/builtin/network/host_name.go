package network

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/sambaconf"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

var hostNameSchema = &schema.Resource{
	Description: "The name a host answers to: its system host name and, for SMB clients, NetBIOS aliases of its Samba server. " +
		"Destroying it gives back the host name it replaced.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, ForceNew: true, Description: "The host that takes the name, e.g. host.fs2."},
		"name": {Type: cty.String, Required: true,
			Description: "The system host name (sethostname, as `hostname NAME` sets it; /etc/hostname is left as it is, so a reboot gives back the host's own name)."},
		"netbios_aliases": {Type: cty.List(cty.String), Optional: true,
			Description: "NetBIOS names the host's Samba server answers to besides its own (Samba's netbios aliases), e.g. [\"FS1\"]."},
		"smb_conf": {Type: cty.String, Optional: true, Computed: true, ForceNew: true,
			Description: "The Samba server's main configuration file, for netbios_aliases; " + sambaconf.DefaultMain + " when not set."},
		"previous": {Type: cty.String, Computed: true, Description: "The host name this one replaced, given back on destroy."},
		"id":       {Type: cty.String, Computed: true, Description: "The host's name in the configuration."},
	}},
}

func hostNameResource() *sdk.Resource {
	return &sdk.Resource{
		Schema:        hostNameSchema,
		Validate:      validateHostName,
		CustomizePlan: planHostName,
		Read:          readHostName,
		Create:        createHostName,
		Update:        updateHostName,
		Delete:        deleteHostName,
	}
}

var (
	// hostNameRE is a host name as RFC 1123 has it, within the kernel's
	// 64 bytes.
	hostNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	// netbiosRE is a NetBIOS name clients can type: 15 characters at most.
	netbiosRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,14}$`)
)

// hostPart is the Drover-managed Samba file of a host name.
const hostPart = "host_name"

func validateHostName(ctx context.Context, config cty.Value) providers.Diagnostics {
	diags := wholeMachine(config.GetAttr("host"), "host names")
	if v := config.GetAttr("name"); known(v) && (len(v.AsString()) > 64 || !hostNameRE.MatchString(v.AsString())) {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("name"), "Invalid host name",
			"%q is not a host name: letters, digits and hyphens, dot-separated labels, at most 64 characters, e.g. \"fs1\".", v.AsString()))
	}
	if v := config.GetAttr("netbios_aliases"); known(v) {
		for i, a := range v.AsValueSlice() {
			if known(a) && !netbiosRE.MatchString(a.AsString()) {
				diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("netbios_aliases").IndexInt(i), "Invalid NetBIOS name",
					"%q is not a NetBIOS name: at most 15 letters, digits, hyphens and underscores, e.g. \"FS1\".", a.AsString()))
			}
		}
	}
	if v := config.GetAttr("smb_conf"); known(v) && !strings.HasPrefix(v.AsString(), "/") {
		diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("smb_conf"), "Invalid path", "%q is not an absolute path on the host.", v.AsString()))
	}
	return diags
}

func aliases(v cty.Value) []string {
	a := v.GetAttr("netbios_aliases")
	if a.IsNull() {
		return nil
	}
	var out []string
	for _, e := range a.AsValueSlice() {
		out = append(out, e.AsString())
	}
	return out
}

// planHostName records nothing yet (previous is read when the name is
// taken) and describes the change, e.g. "+ host name fs1 on fs2
// (NetBIOS alias FS1)". A create with aliases asks smbd, so that one not
// running fails the plan at its configuration line.
func planHostName(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
	attrs := map[string]cty.Value{}
	if p.Config.GetAttr("smb_conf").IsNull() {
		attrs["smb_conf"] = cty.StringVal(sambaconf.DefaultMain)
	}
	if h := p.Config.GetAttr("host"); known(h) {
		attrs["id"] = h.GetAttr("name")
	}
	p.Planned = sdk.SetAttrs(p.Planned, attrs)
	for _, attr := range []string{"host", "name", "netbios_aliases", "smb_conf"} {
		if !p.Planned.GetAttr(attr).IsWhollyKnown() {
			return nil
		}
	}
	if !p.Prior.IsNull() && p.Prior.RawEquals(p.Planned) {
		return nil
	}
	if len(aliases(p.Planned)) > 0 {
		c, diags := samba(p.Planned)
		if diags.HasErrors() {
			return diags
		}
		defer c.Host.Close()
		if err := c.Ping(ctx); err != nil {
			return sambaDiags(err)
		}
	}
	p.Description = describeHostName(p.Prior, p.Planned)
	return nil
}

func describeHostName(prior, planned cty.Value) string {
	on := planned.GetAttr("host").GetAttr("name").AsString()
	name := planned.GetAttr("name").AsString()
	var line string
	if prior.IsNull() {
		line = fmt.Sprintf("+ host name %s on %s", name, on)
	} else {
		line = fmt.Sprintf("~ host name %s -> %s on %s", prior.GetAttr("name").AsString(), name, on)
	}
	if a := aliases(planned); len(a) > 0 {
		line += fmt.Sprintf(" (NetBIOS alias %s)", strings.Join(a, ", "))
	}
	return line
}

// hostName reads the system host name; netns is that of the resource's
// host (netnsOf).
func hostName(ctx context.Context, h host.Host, netns string) (string, error) {
	if netns != "" {
		resp, err := host.Call[hostNameReq, hostNameResp](ctx, h, opHostName, hostNameReq{Netns: netns})
		if err != nil {
			return "", fmt.Errorf("reading the host name of %q: %w", h.Name(), err)
		}
		return resp.Name, nil
	}
	b, err := h.ReadFile(ctx, "/proc/sys/kernel/hostname")
	if err != nil {
		return "", fmt.Errorf("reading the host name of %q: %w", h.Name(), err)
	}
	return strings.TrimSpace(string(b)), nil
}

// setHostName sets the system host name of h's UTS namespace, or of the
// one pinned for the network namespace netns.
func setHostName(ctx context.Context, h host.Host, netns, name string) error {
	if netns != "" {
		if _, err := host.Call[hostNameReq, hostNameResp](ctx, h, opHostName, hostNameReq{Netns: netns, Set: name}); err != nil {
			return fmt.Errorf("on %q: %w", h.Name(), err)
		}
		return nil
	}
	var out bytes.Buffer
	res, err := h.Run(ctx, []string{"hostname", name}, host.RunOptions{Stdout: &out, Stderr: &out})
	if err != nil {
		return fmt.Errorf("running hostname on %q (Debian's hostname): %w", h.Name(), err)
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("hostname %s on %q failed: %s", name, h.Name(), strings.TrimSpace(out.String()))
	}
	return nil
}

// putAliases makes the Samba server answer to v's NetBIOS aliases (none:
// Drover's file removed).
func putAliases(ctx context.Context, c sambaconf.Config, v cty.Value) error {
	a := aliases(v)
	if len(a) == 0 {
		return c.Remove(ctx, hostPart)
	}
	return c.Put(ctx, hostPart, []sambaconf.Section{{Name: "global", Params: []sambaconf.Param{{Key: "netbios aliases", Value: strings.Join(a, " ")}}}})
}

func readHostName(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	c, diags := samba(state)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer c.Host.Close()
	name, err := hostName(ctx, c.Host, netnsOf(state))
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read host name", "%s.", upperFirst(err.Error()))}
	}
	attrs := map[string]cty.Value{"name": cty.StringVal(name)}
	if !state.GetAttr("netbios_aliases").IsNull() {
		sections, _, err := c.Read(ctx, hostPart)
		if err != nil {
			return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read NetBIOS aliases", "%s.", upperFirst(err.Error()))}
		}
		var got []cty.Value
		for _, s := range sections {
			if v, ok := s.Get("netbios aliases"); ok && strings.EqualFold(s.Name, "global") {
				for _, a := range strings.Fields(v) {
					got = append(got, cty.StringVal(a))
				}
			}
		}
		attrs["netbios_aliases"] = cty.ListValEmpty(cty.String)
		if len(got) > 0 {
			attrs["netbios_aliases"] = cty.ListVal(got)
		}
	}
	return sdk.SetAttrs(state, attrs), nil
}

// createHostName records the name it replaces, takes the new one, then
// the aliases; when the aliases fail, the old name is given back.
func createHostName(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := req.Planned
	c, diags := samba(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer c.Host.Close()
	previous, err := hostName(ctx, c.Host, netnsOf(v))
	if err != nil {
		return cty.NilVal, providers.Diagnostics{providers.Errorf("Cannot read host name", "%s.", upperFirst(err.Error()))}
	}
	if err := setHostName(ctx, c.Host, netnsOf(v), v.GetAttr("name").AsString()); err != nil {
		return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("name"), "Cannot set host name", "%s.", upperFirst(err.Error()))}
	}
	if len(aliases(v)) > 0 {
		if err := putAliases(ctx, c, v); err != nil {
			if uerr := setHostName(ctx, c.Host, netnsOf(v), previous); uerr != nil {
				err = fmt.Errorf("%w; giving back the host name %s failed too: %w", err, previous, uerr)
			}
			return cty.NilVal, sambaDiags(err)
		}
	}
	return sdk.SetAttrs(v, map[string]cty.Value{"previous": cty.StringVal(previous)}), nil
}

func updateHostName(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := req.Planned
	c, diags := samba(v)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	defer c.Host.Close()
	if name := v.GetAttr("name").AsString(); name != req.Prior.GetAttr("name").AsString() {
		if err := setHostName(ctx, c.Host, netnsOf(v), name); err != nil {
			return cty.NilVal, providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("name"), "Cannot set host name", "%s.", upperFirst(err.Error()))}
		}
	}
	if !v.GetAttr("netbios_aliases").RawEquals(req.Prior.GetAttr("netbios_aliases")) {
		if err := putAliases(ctx, c, v); err != nil {
			return cty.NilVal, sambaDiags(err)
		}
	}
	return sdk.SetAttrs(v, map[string]cty.Value{"previous": req.Prior.GetAttr("previous")}), nil
}

// deleteHostName takes the aliases away first, then gives back the host
// name it replaced.
func deleteHostName(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	c, diags := samba(req.Prior)
	if diags.HasErrors() {
		return diags
	}
	defer c.Host.Close()
	if !req.Prior.GetAttr("netbios_aliases").IsNull() {
		if err := c.Remove(ctx, hostPart); err != nil {
			return sambaDiags(err)
		}
	}
	if prev := req.Prior.GetAttr("previous"); known(prev) && prev.AsString() != "" {
		if err := setHostName(ctx, c.Host, netnsOf(req.Prior), prev.AsString()); err != nil {
			return providers.Diagnostics{providers.Errorf("Cannot give back host name", "%s.", upperFirst(err.Error()))}
		}
	}
	return nil
}
