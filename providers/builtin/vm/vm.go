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
		"vsphere_url": {Type: cty.String, Optional: true,
			Description: "The vCenter or ESXi of hypervisor = \"vsphere\" guests, e.g. \"https://vcenter.example.net/sdk\"."},
		"vsphere_user":     {Type: cty.String, Optional: true, Description: "The vSphere user."},
		"vsphere_password": {Type: cty.String, Optional: true, Sensitive: true, Description: "The vSphere user's password."},
		"vsphere_insecure": {Type: cty.Bool, Optional: true,
			Description: "Accept the server's TLS certificate without checking it (a lab's self-signed one); false when not set."},
	},
}

// settings is the provider block, read once by Configure before any other
// call.
type settings struct {
	libvirtURI *url.URL
	// vsphere is the vSphere URL with the user and password in it; nil
	// when the provider block sets none.
	vsphere         *url.URL
	vsphereInsecure bool
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
		Actions: map[string]*sdk.Action{
			"guest_stop":  stopAction(s),
			"guest_start": startAction(s),
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
	if v := config.GetAttr("vsphere_url"); v.IsKnown() && !v.IsNull() {
		u, err := url.Parse(v.AsString())
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return append(diags, providers.AttrErrorf(cty.GetAttrPath("vsphere_url"), "Invalid vSphere URL",
				"vsphere_url = %q: give the server's SDK address, like \"https://vcenter.example.net/sdk\".", v.AsString()))
		}
		user, pass := config.GetAttr("vsphere_user"), config.GetAttr("vsphere_password")
		if user.IsKnown() && !user.IsNull() {
			if pass.IsKnown() && !pass.IsNull() {
				u.User = url.UserPassword(user.AsString(), pass.AsString())
			} else {
				u.User = url.User(user.AsString())
			}
		}
		s.vsphere = u
	}
	if v := config.GetAttr("vsphere_insecure"); v.IsKnown() && !v.IsNull() {
		s.vsphereInsecure = v.True()
	}
	return diags
}
