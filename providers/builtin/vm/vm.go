package vm

import (
	"context"
	"net/url"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/schema"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

// Name is the provider's name.
const Name = "vm"

// defaultLibvirtURI is libvirt's system connection on this machine.
const defaultLibvirtURI = "qemu:///system"

var providerSchema = &schema.Block{
	Attributes: map[string]*schema.Attribute{
		"libvirt_uri": {Type: cty.String, Optional: true,
			Description: "The libvirt connection of hypervisor = \"libvirt\" guests: \"qemu:///system\" (the default), or with another socket \"qemu:///system?socket=/run/libvirt/libvirt-sock\"."},
	},
}

// settings is the provider block, read once by Configure before any other
// call.
type settings struct {
	libvirtURI *url.URL
}

// New returns the vm provider.
func New() *sdk.Provider {
	s := &settings{}
	s.libvirtURI, _ = url.Parse(defaultLibvirtURI)
	return &sdk.Provider{
		Name:      Name,
		Config:    providerSchema,
		Configure: s.configure,
		Resources: map[string]*sdk.Resource{
			"vm_guest": guestResource(s),
		},
	}
}

func (s *settings) configure(ctx context.Context, config cty.Value) providers.Diagnostics {
	if config.IsNull() {
		return nil
	}
	var diags providers.Diagnostics
	if v := config.GetAttr("libvirt_uri"); v.IsKnown() && !v.IsNull() {
		u, err := parseLibvirtURI(v.AsString())
		if err != nil {
			return append(diags, providers.AttrErrorf(cty.GetAttrPath("libvirt_uri"), "Invalid libvirt URI", "%s.", err))
		}
		s.libvirtURI = u
	}
	return diags
}
