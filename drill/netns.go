package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/disk/drives"
)

// Interface is an interface of a drill's network namespace, named as the
// production interface a step's address goes on, so that the step works
// unchanged. It is one end of a veth pair whose other end stays in the
// namespace too (the kernels Drover runs on may lack dummy interfaces):
// up, with a carrier, and connected to nothing outside.
type Interface struct {
	Name string
	// Addresses are given to it with their prefix lengths: those of the
	// production interface, so that the subnet check a step's address
	// passes in production passes in the drill too, and the kernel adds
	// the subnets' routes.
	Addresses []netip.Prefix
}

// peerName is the veth peer of the drill interface number i: at most 15
// characters, as every interface name.
func peerName(i int) string { return "drill-peer" + strconv.Itoa(i) }

// Namespace makes the network namespace name on h, the machine Drover
// runs on, journalled before it is made, with its loopback and ifaces up:
// the drill's place for the network resources of its steps, unreachable
// from production. A name already taken is refused before anything is
// recorded: a teardown never removes what the drill did not make.
func (inv *Inventory) Namespace(ctx context.Context, h host.Host, name, note string, ifaces []Interface) error {
	listed, err := netnsListed(ctx, h, name)
	if err != nil {
		return err
	}
	if listed {
		return fmt.Errorf("the network namespace %s is there already (ip netns list); a drill makes its own", name)
	}
	if _, err := inv.Record(ctx, h, Object{Kind: Netns, ID: name, Note: note}); err != nil {
		return err
	}
	argvs := [][]string{{"ip", "netns", "add", name}, {"ip", "-n", name, "link", "set", "lo", "up"}}
	for i, ifc := range ifaces {
		argvs = append(argvs, []string{"ip", "-n", name, "link", "add", ifc.Name, "type", "veth", "peer", "name", peerName(i)})
		for _, a := range ifc.Addresses {
			argvs = append(argvs, []string{"ip", "-n", name, "addr", "add", a.String(), "dev", ifc.Name})
		}
		argvs = append(argvs, []string{"ip", "-n", name, "link", "set", peerName(i), "up"}, []string{"ip", "-n", name, "link", "set", ifc.Name, "up"})
	}
	for _, argv := range argvs {
		if _, err := drives.Run(ctx, h, argv...); err != nil {
			return fmt.Errorf("making the drill's network namespace: %w", err)
		}
	}
	return nil
}

// UTSNamespace makes a UTS namespace on h, the machine Drover runs on,
// pinned at the file pin, journalled before it is made: a host name of
// the drill's own (production's until a step sets it), which the host
// name of a host whose UTSPin it is acts in. A pin there already is
// refused before anything is recorded.
func (inv *Inventory) UTSNamespace(ctx context.Context, h host.Host, pin, note string) error {
	if _, err := h.Lstat(ctx, pin); err == nil {
		return fmt.Errorf("%s is there already: a drill pins its own UTS namespace; if no drill runs, umount it and remove it", pin)
	} else if !isGone(err) {
		return err
	}
	if _, err := inv.Record(ctx, h, Object{Kind: UTS, ID: pin, Note: note}); err != nil {
		return err
	}
	if err := h.MkdirAll(ctx, path.Dir(pin), 0o755); err != nil {
		return err
	}
	if err := h.WriteFile(ctx, pin, strings.NewReader(""), 0o600); err != nil {
		return err
	}
	if _, err := drives.Run(ctx, h, "unshare", "--uts="+pin, "true"); err != nil {
		return fmt.Errorf("making the drill's UTS namespace: %w", err)
	}
	return nil
}

// InterfaceAddrs lists the addresses, with their prefix lengths, of the
// interface ifname in the network namespace netns of h's machine (its
// own when ""), link-local ones left out: the subnets a drill interface
// standing for it needs. Nothing is changed.
func InterfaceAddrs(ctx context.Context, h host.Host, netns, ifname string) ([]netip.Prefix, error) {
	argv := []string{"ip", "-j", "addr", "show", "dev", ifname}
	if netns != "" {
		argv = append(argv[:1], append([]string{"-n", netns}, argv[1:]...)...)
	}
	out, err := drives.Run(ctx, h, argv...)
	if err != nil {
		return nil, fmt.Errorf("reading the addresses of %s: %w", ifname, err)
	}
	var links []struct {
		Addrs []struct {
			Local  string `json:"local"`
			Prefix int    `json:"prefixlen"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		return nil, fmt.Errorf("reading %s: %w", strings.Join(argv, " "), err)
	}
	var addrs []netip.Prefix
	for _, l := range links {
		for _, a := range l.Addrs {
			ip, err := netip.ParseAddr(a.Local)
			if err != nil || ip.IsLinkLocalUnicast() {
				continue
			}
			addrs = append(addrs, netip.PrefixFrom(ip, a.Prefix))
		}
	}
	return addrs, nil
}

// netnsPids lists the processes in the network namespace name.
func netnsPids(ctx context.Context, h host.Host, name string) ([]string, error) {
	out, err := drives.Run(ctx, h, "ip", "netns", "pids", name)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}
