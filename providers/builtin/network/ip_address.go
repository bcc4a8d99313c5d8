package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/ipaddr"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

var ipAddressSchema = &schema.Resource{
	Description: "An IP address with its prefix on an interface of a host: probed before it is taken (refused while another machine answers for it), " +
		"announced once taken, so that neighbours switch at once. Removing it announces nothing.",
	Block: &schema.Block{Attributes: map[string]*schema.Attribute{
		"host": {Type: host.Type, Required: true, ForceNew: true,
			Description: "The host that takes the address, e.g. host.fs2; a local host's netns names the network namespace it acts in. A remote host needs Drover's agent on its machine."},
		"interface": {Type: cty.String, Required: true, ForceNew: true, Description: "The interface, e.g. \"eth0\"."},
		"address": {Type: cty.String, Required: true, ForceNew: true,
			Description: "The address with its prefix length, e.g. \"192.0.2.10/24\" or \"2001:db8::10/64\"."},
		"force": {Type: cty.Bool, Optional: true,
			Description: "Take the address even outside the interface's subnets and without the ARP probe (false when not set): only when the old holder is certainly down."},
		"announce": {Type: cty.Bool, Optional: true, Computed: true,
			Description: "Announce the address once taken: gratuitous ARP (IPv4), an unsolicited neighbour advertisement (IPv6); true when not set."},
		"id": {Type: cty.String, Computed: true, Description: "HOST:INTERFACE:ADDRESS."},
	}},
}

func ipAddressResource() *sdk.Resource {
	return &sdk.Resource{
		Schema:        ipAddressSchema,
		Validate:      validateIPAddress,
		CustomizePlan: planIPAddress,
		Read:          readIPAddress,
		Create:        addIPAddress,
		// force and announce only matter while the address is taken.
		Update: func(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
			return req.Planned, nil
		},
		Delete: deleteIPAddress,
	}
}

func parseAddress(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Zone() != "" {
		return p, fmt.Errorf("the address %q is not an address with its prefix length, like \"192.0.2.10/24\" or \"2001:db8::10/64\"", s)
	}
	if p.Addr().Is4In6() {
		return p, fmt.Errorf("the address %q is an IPv4-mapped IPv6 address: write the IPv4 address", s)
	}
	return p, nil
}

func validateIPAddress(ctx context.Context, config cty.Value) providers.Diagnostics {
	var diags providers.Diagnostics
	if v := config.GetAttr("address"); known(v) {
		if _, err := parseAddress(v.AsString()); err != nil {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("address"), "Invalid IP address", "%s.", upperFirst(err.Error())))
		}
	}
	if v := config.GetAttr("interface"); known(v) {
		if s := v.AsString(); s == "" || len(s) > 15 || strings.ContainsAny(s, "/ \t\n") {
			diags = append(diags, providers.AttrErrorf(cty.GetAttrPath("interface"), "Invalid interface name",
				"%q is not an interface name: at most 15 characters, no slash or space, e.g. \"eth0\".", s))
		}
	}
	return diags
}

func ipAddressID(v cty.Value) cty.Value {
	h, i, a := v.GetAttr("host"), v.GetAttr("interface"), v.GetAttr("address")
	if !known(h) || !known(i) || !known(a) || h.GetAttr("name").IsNull() {
		return cty.UnknownVal(cty.String)
	}
	return cty.StringVal(h.GetAttr("name").AsString() + ":" + i.AsString() + ":" + a.AsString())
}

// planIPAddress defaults announce and describes the change, e.g.
// "+ 192.0.2.10/24 on fs2:eth0 (announce)". A create is checked against
// the host as it is now (the interface, its subnets), so that bad input
// fails the plan, naming the configuration line, before anything runs;
// apply checks again and probes.
func planIPAddress(ctx context.Context, p *sdk.Plan) providers.Diagnostics {
	attrs := map[string]cty.Value{"id": ipAddressID(p.Config)}
	if p.Config.GetAttr("announce").IsNull() {
		attrs["announce"] = cty.True
	}
	p.Planned = sdk.SetAttrs(p.Planned, attrs)
	if !p.Prior.IsNull() || !p.Planned.IsWhollyKnown() {
		return nil
	}
	if _, err := callAddress(ctx, p.Planned, opAddressCheck); err != nil {
		return ipDiags(p.Planned, err, "Cannot check IP address")
	}
	var how []string
	if forced(p.Planned) {
		how = append(how, "force")
	}
	if p.Planned.GetAttr("announce").True() {
		how = append(how, "announce")
	}
	p.Description = fmt.Sprintf("+ %s on %s:%s", p.Planned.GetAttr("address").AsString(),
		p.Planned.GetAttr("host").GetAttr("name").AsString(), p.Planned.GetAttr("interface").AsString())
	if len(how) > 0 {
		p.Description += " (" + strings.Join(how, ", ") + ")"
	}
	return nil
}

// forced says whether v sets force = true.
func forced(v cty.Value) bool {
	f := v.GetAttr("force")
	return !f.IsNull() && f.True()
}

// readIPAddress reads the address back: gone when the interface no longer
// holds it (the next plan takes it again), the prefix length as found.
func readIPAddress(ctx context.Context, state cty.Value) (cty.Value, providers.Diagnostics) {
	resp, err := callAddress(ctx, state, opAddressFind)
	if err != nil {
		return cty.NilVal, ipDiags(state, err, "Cannot read IP address")
	}
	if !resp.Held {
		return cty.NullVal(state.Type()), nil
	}
	if p, err := parseAddress(state.GetAttr("address").AsString()); err != nil || resp.Prefix != p {
		state = sdk.SetAttrs(state, map[string]cty.Value{"address": cty.StringVal(resp.Prefix.String())})
	}
	return state, nil
}

func addIPAddress(ctx context.Context, req sdk.ApplyRequest) (cty.Value, providers.Diagnostics) {
	v := sdk.SetAttrs(req.Planned, map[string]cty.Value{"id": ipAddressID(req.Planned)})
	if _, err := callAddress(ctx, v, opAddressAdd); err != nil {
		return cty.NilVal, ipDiags(v, err, "Cannot add IP address")
	}
	return v, nil
}

func deleteIPAddress(ctx context.Context, req sdk.ApplyRequest) providers.Diagnostics {
	if _, err := callAddress(ctx, req.Prior, opAddressRemove); err != nil {
		return ipDiags(req.Prior, err, "Cannot remove IP address")
	}
	return nil
}

// ipDiags turns what an address op met on v's host into a diagnostic
// about the attribute it concerns; summary names what failed otherwise.
func ipDiags(v cty.Value, err error, summary string) providers.Diagnostics {
	var (
		nie  *ipaddr.NoInterfaceError
		oe   *ipaddr.OutsideError
		held *ipaddr.HeldError
		dup  *ipaddr.DuplicateError
		he   hostError
	)
	switch {
	case errors.As(err, &nie):
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("interface"), "No such interface", "%s.", upperFirst(err.Error()))}
	case errors.As(err, &oe):
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("address"), "Address outside the interface's subnets", "%s.", err)}
	case errors.As(err, &held), errors.As(err, &dup):
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("address"), "Address still held by another machine", "%s.", err)}
	case errors.Is(err, host.ErrNoOps):
		return providers.Diagnostics{noAgent(cty.GetAttrPath("host"), v.GetAttr("host"), err)}
	case errors.As(err, &he), errors.Is(err, host.ErrUnreachable):
		return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("host"), "Cannot reach the host's network", "%s.", upperFirst(err.Error()))}
	}
	return providers.Diagnostics{providers.Errorf(summary, "%s.", upperFirst(err.Error()))}
}

// noAgent says that the host h (a host value, at path) cannot run the
// address ops on its machine, and why: err, from host.Call or
// host.CanCall.
func noAgent(path cty.Path, h cty.Value, err error) providers.Diagnostic {
	name := h.GetAttr("name").AsString()
	return providers.AttrErrorf(path, "Host reached without the agent",
		"%s is reached without the agent: ip_address needs netlink on the machine, to probe, take, announce and release addresses there (%s). "+
			"Reach %s through a transport that runs Drover's agent on it, or take the address on a host that does.", name, err, name)
}
