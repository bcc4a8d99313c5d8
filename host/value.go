package host

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
)

// Config is a host value in Go form. Empty fields are null in the value,
// as they are when a host block leaves the attribute out.
type Config struct {
	Name      string
	Transport string // "local" when empty
	Address   string
	Root      string
	User      string
	Port      int
	// Netns names the network namespace (as `ip netns` names it) a local
	// host's network resources act in, so that one machine can play
	// several; the host's own when empty. Files are not affected.
	Netns string
}

// Value is c as a value of Type.
func (c Config) Value() cty.Value {
	str := func(s string) cty.Value {
		if s == "" {
			return cty.NullVal(cty.String)
		}
		return cty.StringVal(s)
	}
	transport := c.Transport
	if transport == "" {
		transport = "local"
	}
	port := cty.NullVal(cty.Number)
	if c.Port != 0 {
		port = cty.NumberIntVal(int64(c.Port))
	}
	return cty.ObjectVal(map[string]cty.Value{
		"name":      cty.StringVal(c.Name),
		"transport": cty.StringVal(transport),
		"address":   str(c.Address),
		"root":      str(c.Root),
		"user":      str(c.User),
		"port":      port,
		"netns":     str(c.Netns),
	})
}

// ConfigFromValue reads a host value: an object with the attributes of
// Type, any of them null (or missing) except name.
func ConfigFromValue(v cty.Value) (Config, error) {
	var c Config
	switch {
	case v == cty.NilVal || v.IsNull():
		return c, fmt.Errorf("no host given")
	case !v.IsWhollyKnown():
		return c, fmt.Errorf("the host is not known until apply")
	case !v.Type().IsObjectType():
		return c, fmt.Errorf("a host must be an object like host.NAME, not %s", v.Type().FriendlyName())
	}
	v, _ = v.UnmarkDeep()
	strs := map[string]*string{"name": &c.Name, "transport": &c.Transport, "address": &c.Address, "root": &c.Root, "user": &c.User, "netns": &c.Netns}
	for attr, dst := range strs {
		if !v.Type().HasAttribute(attr) {
			continue
		}
		a := v.GetAttr(attr)
		if a.IsNull() {
			continue
		}
		if a.Type() != cty.String {
			return c, fmt.Errorf("host attribute %q must be a string, not %s", attr, a.Type().FriendlyName())
		}
		*dst = a.AsString()
	}
	if c.Name == "" {
		return c, fmt.Errorf("the host has no name")
	}
	if v.Type().HasAttribute("port") {
		if p := v.GetAttr("port"); !p.IsNull() {
			if p.Type() != cty.Number {
				return c, fmt.Errorf("host %q: port must be a number, not %s", c.Name, p.Type().FriendlyName())
			}
			n, acc := p.AsBigFloat().Int64()
			if acc != 0 || n < 0 || n > 65535 {
				return c, fmt.Errorf("host %q: port %s is not a port number", c.Name, p.AsBigFloat().String())
			}
			c.Port = int(n)
		}
	}
	return c, nil
}

// FromValue builds the Host a host value describes.
func FromValue(v cty.Value) (Host, error) {
	c, err := ConfigFromValue(v)
	if err != nil {
		return nil, err
	}
	return c.Open()
}

// Open connects to the host c describes.
func (c Config) Open() (Host, error) {
	switch c.Transport {
	case "", "local":
		// A host with an address is another machine: opening this one in its
		// place would act on the wrong machine.
		if c.Address != "" {
			return nil, fmt.Errorf("host %q names an address, but only the local machine can be reached in this release; remove address to manage this machine", c.Name)
		}
		return NewLocal(c.Name, c.Root), nil
	case "ssh":
		return nil, fmt.Errorf("host %q: the ssh transport is not available yet; use transport \"local\"", c.Name)
	default:
		return nil, fmt.Errorf("host %q: unknown transport %q; use \"local\"", c.Name, c.Transport)
	}
}
