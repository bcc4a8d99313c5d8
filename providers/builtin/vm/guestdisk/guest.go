package guestdisk

import (
	"errors"
	"fmt"

	"github.com/drover-dr/drover/host"
	"github.com/zclconf/go-cty/cty"
)

// Guest is what a copy needs to know of a vm_guest, from the value of a
// reference to one (source_guest = vm_guest.fs1).
type Guest struct {
	Host       host.Config
	Hypervisor string
	Name       string
	// StateDir holds the QMP socket, the guest agent's socket and the
	// overlays; a host path.
	StateDir string
	// Disks are the guest's disk images, host paths.
	Disks []string
	// Throwaway says the guest writes to a throwaway overlay (its
	// snapshot = true): its disks do not change.
	Throwaway bool
	// Agent says the guest has a guest agent channel (guest_agent).
	Agent bool
	// LibvirtURI is a libvirt guest's connection.
	LibvirtURI string
	// Stopped says the value has the guest not run (running = false):
	// in a plan, a guest stopped before the copy.
	Stopped bool
}

// FromValue reads a vm_guest value. Attributes a copy needs and the value
// lacks, or that are not known yet, are an error naming them.
func FromValue(v cty.Value) (*Guest, error) {
	if v.IsNull() || !v.Type().IsObjectType() {
		return nil, errors.New("source_guest must be the vm_guest whose disk is copied, like source_guest = vm_guest.fs1")
	}
	str := func(name, def string) (string, error) {
		if !v.Type().HasAttribute(name) {
			return "", fmt.Errorf("source_guest has no %s: it must be a vm_guest, like source_guest = vm_guest.fs1", name)
		}
		a := v.GetAttr(name)
		switch {
		case !a.IsKnown():
			return "", fmt.Errorf("the source guest's %s is not known yet", name)
		case a.IsNull():
			return def, nil
		case !a.Type().Equals(cty.String):
			return "", fmt.Errorf("source_guest's %s is not a string: it must be a vm_guest, like source_guest = vm_guest.fs1", name)
		}
		return a.AsString(), nil
	}
	flag := func(name string) bool {
		if !v.Type().HasAttribute(name) {
			return false
		}
		a := v.GetAttr(name)
		return a.IsKnown() && !a.IsNull() && a.Type().Equals(cty.Bool) && a.True()
	}
	g := &Guest{Throwaway: flag("snapshot"), Agent: flag("guest_agent")}
	if v.Type().HasAttribute("running") {
		if r := v.GetAttr("running"); r.IsKnown() && !r.IsNull() && r.Type().Equals(cty.Bool) {
			g.Stopped = r.False()
		}
	}
	var err error
	if g.Hypervisor, err = str("hypervisor", "qemu"); err != nil {
		return nil, err
	}
	if g.Name, err = str("name", ""); err != nil {
		return nil, err
	}
	if g.StateDir, err = str("state_dir", ""); err != nil {
		return nil, err
	}
	if v.Type().HasAttribute("libvirt_uri") {
		if g.LibvirtURI, err = str("libvirt_uri", ""); err != nil {
			return nil, err
		}
	}
	if !v.Type().HasAttribute("host") || !v.GetAttr("host").IsWhollyKnown() {
		return nil, errors.New("the source guest's host is not known yet")
	}
	if g.Host, err = host.ConfigFromValue(v.GetAttr("host")); err != nil {
		return nil, fmt.Errorf("the source guest's host: %w", err)
	}
	if !v.Type().HasAttribute("disks") || !v.GetAttr("disks").IsWhollyKnown() || v.GetAttr("disks").IsNull() {
		return nil, errors.New("the source guest's disks are not known yet")
	}
	for _, d := range v.GetAttr("disks").AsValueSlice() {
		if !d.IsNull() {
			g.Disks = append(g.Disks, d.AsString())
		}
	}
	return g, nil
}

// String names the guest for messages.
func (g *Guest) String() string {
	return fmt.Sprintf("%q (%s on host %q)", g.Name, g.Hypervisor, g.Host.Name)
}
