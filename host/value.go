package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"
	xssh "golang.org/x/crypto/ssh"
)

// Config is a host value in Go form. Empty fields are null in the value,
// as they are when a host block leaves the attribute out.
type Config struct {
	Name      string
	Transport string // "local" when empty and there is no address
	Address   string
	Root      string
	User      string
	Port      int
	// Netns names the network namespace (as `ip netns` names it) a local
	// host's network resources act in, so that one machine can play
	// several; the host's own when empty. Files are not affected. Its
	// host name is that of the UTS namespace pinned at UTSPin, when one
	// is (a drill pins one beside its network namespace).
	Netns string
	// NoAgent (agent = false) keeps Drover from running its agent on an
	// SSH host's machine: nothing of Drover's is uploaded or run there,
	// and everything goes through SFTP and exec.
	NoAgent bool
	// IdentityFile and KnownHosts are paths on the machine Drover runs
	// on ("~/" is the home folder); HostKey is a public key.
	IdentityFile string
	HostKey      string
	KnownHosts   string
}

// Value is c as a value of Type.
func (c Config) Value() cty.Value {
	str := func(s string) cty.Value {
		if s == "" {
			return cty.NullVal(cty.String)
		}
		return cty.StringVal(s)
	}
	agent := cty.NullVal(cty.Bool)
	if c.NoAgent {
		agent = cty.False
	}
	port := cty.NullVal(cty.Number)
	if c.Port != 0 {
		port = cty.NumberIntVal(int64(c.Port))
	}
	return cty.ObjectVal(map[string]cty.Value{
		"name":          cty.StringVal(c.Name),
		"transport":     cty.StringVal(c.EffectiveTransport()),
		"address":       str(c.Address),
		"root":          str(c.Root),
		"user":          str(c.User),
		"port":          port,
		"identity_file": str(c.IdentityFile),
		"host_key":      str(c.HostKey),
		"known_hosts":   str(c.KnownHosts),
		"netns":         str(c.Netns),
		"agent":         agent,
	})
}

// UTSPin is the file a UTS namespace is pinned at (bind-mounted) for
// the network namespace c.Netns, for the host name to go with the
// network; "" without Netns.
func (c Config) UTSPin() string {
	if c.Netns == "" {
		return ""
	}
	return "/run/drover/uts/" + c.Netns
}

// EffectiveTransport is the transport c names, or the one its address
// implies.
func (c Config) EffectiveTransport() string {
	switch {
	case c.Transport != "":
		return c.Transport
	case c.Address != "":
		return "ssh"
	}
	return "local"
}

var errNotKnown = errors.New("the host is not known until apply")

// ConfigFromValue reads a host value: an object with the attributes of
// Type, any of them null (or missing) except name.
func ConfigFromValue(v cty.Value) (Config, error) {
	var c Config
	switch {
	case v == cty.NilVal || v.IsNull():
		return c, fmt.Errorf("no host given")
	case !v.IsKnown():
		return c, errNotKnown
	case !v.Type().IsObjectType():
		return c, fmt.Errorf("a host must be an object like host.NAME, not %s", v.Type().FriendlyName())
	}
	// Every attribute is a primitive: unmarking and checking each one
	// read is enough (a host is opened for every step a provider runs on
	// it, and IsWhollyKnown's walk of the object was most of the cost).
	v, _ = v.Unmark()
	unknown := false
	attr := func(name string) cty.Value {
		if !v.Type().HasAttribute(name) {
			return cty.NullVal(cty.DynamicPseudoType)
		}
		a, _ := v.GetAttr(name).Unmark()
		unknown = unknown || !a.IsKnown()
		return a
	}
	names := [...]string{"name", "transport", "address", "root", "user", "identity_file", "host_key", "known_hosts", "netns"}
	var vals [len(names)]cty.Value
	for i, name := range names {
		vals[i] = attr(name)
	}
	agent, port := attr("agent"), attr("port")
	if unknown {
		return c, errNotKnown
	}
	var strs [len(names)]string
	for i, a := range vals {
		if a.IsNull() {
			continue
		}
		if a.Type() != cty.String {
			return c, fmt.Errorf("host attribute %q must be a string, not %s", names[i], a.Type().FriendlyName())
		}
		strs[i] = a.AsString()
	}
	c = Config{Name: strs[0], Transport: strs[1], Address: strs[2], Root: strs[3], User: strs[4],
		IdentityFile: strs[5], HostKey: strs[6], KnownHosts: strs[7], Netns: strs[8]}
	if c.Name == "" {
		return c, fmt.Errorf("the host has no name")
	}
	if !agent.IsNull() {
		if agent.Type() != cty.Bool {
			return c, fmt.Errorf("host %q: agent must be true or false, not %s", c.Name, agent.Type().FriendlyName())
		}
		c.NoAgent = agent.False()
	}
	if !port.IsNull() {
		if port.Type() != cty.Number {
			return c, fmt.Errorf("host %q: port must be a number, not %s", c.Name, port.Type().FriendlyName())
		}
		n, acc := port.AsBigFloat().Int64()
		if acc != 0 || n < 0 || n > 65535 {
			return c, fmt.Errorf("host %q: port %s is not a port number", c.Name, port.AsBigFloat().String())
		}
		c.Port = int(n)
	}
	return c, nil
}

// connectionAttrs say how a machine is reached, not which machine or
// folder it is.
var connectionAttrs = []string{"identity_file", "host_key", "known_hosts", "agent"}

// WithoutConnection is the host value v with the attributes that only say
// how to reach the machine made null: two host values name the same
// machine and folder when these are equal. A new key file or a pinned key
// does not make the resources on a host other ones.
func WithoutConnection(v cty.Value) cty.Value {
	if v == cty.NilVal || v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
		return v
	}
	v, marks := v.Unmark()
	attrs := v.AsValueMap()
	for _, name := range connectionAttrs {
		if a, ok := attrs[name]; ok {
			attrs[name] = cty.NullVal(a.Type())
		}
	}
	return cty.ObjectVal(attrs).WithMarks(marks)
}

// AttrError is what is wrong with one attribute of a host.
type AttrError struct {
	Attr   string
	Detail string
}

// Check lists what is wrong with c, attribute by attribute, before
// anything connects: an address on a local host (which would otherwise
// act on this machine in place of another), an unknown transport, an
// address, port, root or host key that cannot be right.
func (c Config) Check() []AttrError {
	var errs []AttrError
	add := func(attr, format string, args ...any) {
		errs = append(errs, AttrError{attr, fmt.Sprintf(format, args...)})
	}
	switch c.EffectiveTransport() {
	case "local":
		// In this order, without a map: a local host is checked on every
		// call a provider makes on it.
		remote := [...]struct {
			attr string
			set  bool
		}{{"address", c.Address != ""}, {"port", c.Port != 0}, {"user", c.User != ""}, {"identity_file", c.IdentityFile != ""},
			{"host_key", c.HostKey != ""}, {"known_hosts", c.KnownHosts != ""}, {"agent", c.NoAgent}}
		for _, r := range remote {
			if attr := r.attr; r.set {
				add(attr, "Host %q has transport \"local\" (the machine Drover runs on), so %s, which is for reaching another machine over SSH, would be ignored and this machine acted on instead. "+
					"Remove transport = \"local\" (an address implies \"ssh\") or remove %s.", c.Name, attr, attr)
			}
		}
		return errs
	case "ssh":
	default:
		add("transport", "Host %q asks for transport %q; the transports are \"local\" (this machine) and \"ssh\" (implied by an address).", c.Name, c.Transport)
		return errs
	}
	if c.Address == "" {
		add("transport", "Host %q uses the ssh transport but names no machine: set address = \"NAME\" or \"NAME:PORT\".", c.Name)
	} else if name, port, err := splitAddress(c.Address); err != nil {
		add("address", "Host %q: address %q %s; write \"NAME\", \"IP\", \"NAME:PORT\" or \"[IPv6]:PORT\".", c.Name, c.Address, err)
	} else if port != "" && c.Port != 0 {
		add("port", "Host %q gives its port twice, in address (%s) and in port (%d): keep one.", c.Name, port, c.Port)
	} else if name == "" {
		add("address", "Host %q: address %q names no machine.", c.Name, c.Address)
	}
	if c.Port < 0 || c.Port > 65535 {
		add("port", "Host %q: port %d is not a port number (1 to 65535).", c.Name, c.Port)
	}
	if strings.ContainsAny(c.User, " \t\n:@/") {
		add("user", "Host %q: user %q is not a user name.", c.Name, c.User)
	}
	if c.Netns != "" {
		add("netns", "Host %q: netns names a network namespace of the machine Drover runs on, for a local host; an ssh host's network resources act in that machine's own namespace. Remove netns.", c.Name)
	}
	if c.Root != "" && !path.IsAbs(c.Root) {
		add("root", "Host %q: root %q must be an absolute path on that machine (a remote host has no configuration folder to be relative to).", c.Name, c.Root)
	}
	if k := strings.TrimSpace(c.HostKey); k != "" {
		if _, _, _, _, err := xssh.ParseAuthorizedKey([]byte(k)); err != nil {
			add("host_key", "Host %q: host_key is not a public key. Give the machine's public host key, a line of /etc/ssh/ssh_host_ed25519_key.pub there (\"ssh-ed25519 AAAA...\"), not a fingerprint.", c.Name)
		}
	}
	return errs
}

// splitAddress splits "NAME[:PORT]" or "[IPv6]:PORT" (or a bare IPv6
// address); port is "" when the address names none.
func splitAddress(address string) (name, port string, err error) {
	if strings.Count(address, ":") > 1 && !strings.HasPrefix(address, "[") {
		if net.ParseIP(address) == nil {
			return "", "", fmt.Errorf("is not an address")
		}
		return address, "", nil
	}
	if !strings.Contains(address, ":") {
		name = address
	} else if name, port, err = net.SplitHostPort(address); err != nil {
		return "", "", fmt.Errorf("is not an address")
	}
	if strings.ContainsAny(name, " /[]@") {
		return "", "", fmt.Errorf("is not a host name or IP address")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("has %q, which is not a port number", port)
		}
	}
	return name, port, nil
}

// Opener connects to a host of a transport other than local.
type Opener func(ctx context.Context, c Config) (Host, error)

// transports holds the openers of the transports this program was built
// with (host/ssh registers "ssh" when a program imports it): this package
// cannot import the transports, which implement its interface.
var transports struct {
	sync.Mutex
	open map[string]Opener
}

// RegisterTransport makes Open reach hosts of transport name through open.
func RegisterTransport(name string, open Opener) {
	transports.Lock()
	defer transports.Unlock()
	if transports.open == nil {
		transports.open = map[string]Opener{}
	}
	transports.open[name] = open
}

// FromValue builds the Host a host value describes.
func FromValue(v cty.Value) (Host, error) {
	c, err := ConfigFromValue(v)
	if err != nil {
		return nil, err
	}
	return c.Open()
}

// Open connects to the host c describes. It never reaches this machine
// for a host that names another one: such a host is refused, not opened
// locally.
func (c Config) Open() (Host, error) {
	return c.OpenContext(context.Background())
}

// OpenContext is Open with a context bounding the connection.
func (c Config) OpenContext(ctx context.Context) (Host, error) {
	if errs := c.Check(); len(errs) > 0 {
		return nil, errors.New(errs[0].Detail)
	}
	t := c.EffectiveTransport()
	if t == "local" {
		return NewLocal(c.Name, c.Root), nil
	}
	transports.Lock()
	open := transports.open[t]
	transports.Unlock()
	if open == nil {
		return nil, fmt.Errorf("host %q: this program was built without the %s transport, so it cannot reach %s (nothing was done)", c.Name, t, c.Address)
	}
	return open(ctx, c)
}
