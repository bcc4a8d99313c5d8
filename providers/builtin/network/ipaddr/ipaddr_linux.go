package ipaddr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Namespace is the network of one namespace of the local machine.
type Namespace struct {
	name string
	ns   netns.NsHandle
	h    *netlink.Handle
}

// Open opens the namespace `ip netns` calls name, or the calling process's
// own when name is "".
func Open(name string) (*Namespace, error) {
	var ns netns.NsHandle
	var err error
	if name == "" {
		ns, err = netns.Get()
	} else {
		ns, err = netns.GetFromName(name)
	}
	if err != nil {
		if name == "" {
			return nil, fmt.Errorf("opening this process's network namespace: %w", err)
		}
		return nil, fmt.Errorf("the network namespace %q cannot be opened (see `ip netns list`): %w", name, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink in the network namespace %q: %w", name, err)
	}
	return &Namespace{name: name, ns: ns, h: h}, nil
}

// Close releases n.
func (n *Namespace) Close() error {
	n.h.Close()
	return n.ns.Close()
}

// where names n in messages.
func (n *Namespace) where() string {
	if n.name == "" {
		return ""
	}
	return fmt.Sprintf(" in the network namespace %q", n.name)
}

// socket creates a socket in n: sockets belong to the namespace of the
// thread that creates them, so the thread is locked, moved into n, and
// moved back before it is released. A thread that cannot be moved back is
// never released: the runtime ends it with its goroutine.
func (n *Namespace) socket(domain, typ, proto int) (int, error) {
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			ch <- result{-1, err}
			return
		}
		defer orig.Close()
		if err := netns.Set(n.ns); err != nil {
			ch <- result{-1, fmt.Errorf("entering the network namespace %q: %w", n.name, err)}
			return
		}
		fd, serr := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
		if err := netns.Set(orig); err != nil {
			if fd >= 0 {
				unix.Close(fd)
			}
			ch <- result{-1, fmt.Errorf("leaving the network namespace %q: %w", n.name, err)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{fd, serr}
	}()
	r := <-ch
	return r.fd, r.err
}

// link finds the interface called name, or says which interfaces exist.
func (n *Namespace) link(name string) (netlink.Link, error) {
	l, err := n.h.LinkByName(name)
	if err == nil {
		return l, nil
	}
	var nf netlink.LinkNotFoundError
	if !errors.As(err, &nf) {
		return nil, fmt.Errorf("looking up the interface %q%s: %w", name, n.where(), err)
	}
	links, lerr := n.h.LinkList()
	if lerr != nil {
		return nil, fmt.Errorf("there is no interface %q%s", name, n.where())
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	slices.Sort(names)
	return nil, &NoInterfaceError{Name: name, Namespace: n.name, Have: names}
}

// NoInterfaceError is an interface that does not exist.
type NoInterfaceError struct {
	Name, Namespace string
	// Have are the interfaces that do.
	Have []string
}

func (e *NoInterfaceError) Error() string {
	where := ""
	if e.Namespace != "" {
		where = fmt.Sprintf(" in the network namespace %q", e.Namespace)
	}
	return fmt.Sprintf("there is no interface %q%s; the interfaces are: %s", e.Name, where, strings.Join(e.Have, ", "))
}

func family(a netip.Addr) int {
	if a.Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

func toIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func fromIPNet(ipn *net.IPNet) netip.Prefix {
	a, _ := netip.AddrFromSlice(ipn.IP)
	if v4 := ipn.IP.To4(); v4 != nil {
		a = netip.AddrFrom4([4]byte(v4))
	}
	ones, _ := ipn.Mask.Size()
	return netip.PrefixFrom(a, ones)
}

// addrs lists the addresses of link of a's family.
func (n *Namespace) addrs(link netlink.Link, a netip.Addr) ([]netlink.Addr, error) {
	list, err := n.h.AddrList(link, family(a))
	if err != nil {
		return nil, fmt.Errorf("listing the addresses of %s%s: %w", link.Attrs().Name, n.where(), err)
	}
	return list, nil
}

// Find returns the prefix with which ifname holds ip; ok is false when it
// does not (a missing interface too).
func (n *Namespace) Find(ifname string, ip netip.Addr) (p netip.Prefix, ok bool, err error) {
	link, err := n.link(ifname)
	var nie *NoInterfaceError
	if errors.As(err, &nie) {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	list, err := n.addrs(link, ip)
	if err != nil {
		return p, false, err
	}
	for _, a := range list {
		if got := fromIPNet(a.IPNet); got.Addr() == ip {
			return got, true, nil
		}
	}
	return p, false, nil
}

// HeldError is an address another machine answers for.
type HeldError struct {
	Addr      netip.Addr
	Interface string
	MAC       net.HardwareAddr
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is still held by the machine with MAC %s (it answered an ARP probe on %s): taking an address another machine still holds is how split-brain starts; release it there first, or set force = true if that machine is certainly down",
		e.Addr, e.MAC, e.Interface)
}

// OutsideError is an address in none of the interface's subnets.
type OutsideError struct {
	Prefix    netip.Prefix
	Interface string
	Subnets   []netip.Prefix
}

func (e *OutsideError) Error() string {
	if len(e.Subnets) == 0 {
		return fmt.Sprintf("%s has no IPv%d subnet for %s: give the interface an address of that subnet first, or set force = true to add it all the same",
			e.Interface, map[bool]int{true: 4, false: 6}[e.Prefix.Addr().Is4()], e.Prefix)
	}
	names := make([]string, 0, len(e.Subnets))
	for _, s := range e.Subnets {
		names = append(names, s.String())
	}
	return fmt.Sprintf("%s is outside every subnet of %s (%s): check the address, or set force = true to add it all the same",
		e.Prefix.Addr(), e.Interface, strings.Join(names, ", "))
}

// DuplicateError is an IPv6 address whose duplicate address detection
// failed: another machine holds it.
type DuplicateError struct {
	Addr      netip.Addr
	Interface string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s is still held by another machine on %s (duplicate address detection failed; the address was removed again): taking an address another machine still holds is how split-brain starts; release it there first",
		e.Addr, e.Interface)
}

// AddOptions are how Add takes an address.
type AddOptions struct {
	// Force skips the subnet check and the probe (never IPv6's duplicate
	// address detection, which the kernel does).
	Force bool
	// Announce tells the neighbours once the address is added.
	Announce bool
}

// Check says whether ifname may take p: the interface must exist and,
// unless force, p must lie inside a subnet the interface already has.
// held reports that ifname holds p already. Nothing is sent or changed.
func (n *Namespace) Check(ifname string, p netip.Prefix, force bool) (held bool, err error) {
	link, err := n.link(ifname)
	if err != nil {
		return false, err
	}
	return n.check(link, p, force)
}

func (n *Namespace) check(link netlink.Link, p netip.Prefix, force bool) (held bool, err error) {
	have, err := n.addrs(link, p.Addr())
	if err != nil {
		return false, err
	}
	var subnets []netip.Prefix
	inside := false
	for _, a := range have {
		got := fromIPNet(a.IPNet)
		held = held || got.Addr() == p.Addr()
		if got.Addr().IsLinkLocalUnicast() {
			continue
		}
		subnets = append(subnets, got.Masked())
		inside = inside || got.Masked().Contains(p.Addr())
	}
	if !held && !inside && !force {
		return false, &OutsideError{Prefix: p, Interface: link.Attrs().Name, Subnets: subnets}
	}
	return held, nil
}

// Add takes p on ifname once Check allows it and nobody answers for it (an
// ARP probe for IPv4 unless Force; for IPv6 the kernel's duplicate address
// detection, after which an address found duplicate is removed again).
// Then it is announced. An address ifname already holds is only
// announced.
func (n *Namespace) Add(ctx context.Context, ifname string, p netip.Prefix, opts AddOptions) error {
	link, err := n.link(ifname)
	if err != nil {
		return err
	}
	held, err := n.check(link, p, opts.Force)
	if err != nil {
		return err
	}
	probe := !held && p.Addr().Is4() && !opts.Force
	// One packet socket carries the probe and the announcements: closing
	// one waits for the kernel to retire its packet handler (an RCU grace
	// period, 10 to 20 ms), which would hold up the first announcement,
	// the one clients wait for.
	var arp *arpConn
	if p.Addr().Is4() && (probe || opts.Announce) {
		if arp, err = n.openARP(link); err != nil {
			return err
		}
		defer arp.Close()
	}
	if probe {
		mac, err := arp.probe(ctx, p.Addr())
		if err != nil {
			return fmt.Errorf("probing for %s on %s%s: %w", p.Addr(), ifname, n.where(), err)
		}
		if mac != nil {
			return &HeldError{Addr: p.Addr(), Interface: ifname, MAC: mac}
		}
	}
	if !held {
		if err := n.h.AddrAdd(link, &netlink.Addr{IPNet: toIPNet(p)}); err != nil {
			return fmt.Errorf("adding %s to %s%s: %w", p, ifname, n.where(), err)
		}
		if p.Addr().Is6() {
			if err := n.waitDAD(ctx, link, p); err != nil {
				return err
			}
		}
	}
	if opts.Announce {
		if err := n.announce(ctx, link, p.Addr(), arp); err != nil {
			return fmt.Errorf("announcing %s on %s%s: %w", p.Addr(), ifname, n.where(), err)
		}
	}
	return nil
}

// waitDAD waits until the kernel's duplicate address detection of p ends;
// an address found duplicate is removed and refused.
func (n *Namespace) waitDAD(ctx context.Context, link netlink.Link, p netip.Prefix) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := n.addrs(link, p.Addr())
		if err != nil {
			return err
		}
		flags, found := 0, false
		for _, a := range list {
			if fromIPNet(a.IPNet).Addr() == p.Addr() {
				flags, found = a.Flags, true
			}
		}
		switch {
		case !found:
			return fmt.Errorf("%s vanished from %s%s while the kernel checked it for duplicates", p, link.Attrs().Name, n.where())
		case flags&unix.IFA_F_DADFAILED != 0:
			n.h.AddrDel(link, &netlink.Addr{IPNet: toIPNet(p)})
			return &DuplicateError{Addr: p.Addr(), Interface: link.Attrs().Name}
		case flags&unix.IFA_F_TENTATIVE == 0:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("%s on %s%s is still tentative after 10s of duplicate address detection: is the interface up?", p, link.Attrs().Name, n.where())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Remove releases p from ifname, announcing nothing; an address or an
// interface already gone is no error.
func (n *Namespace) Remove(ifname string, p netip.Prefix) error {
	link, err := n.link(ifname)
	var nie *NoInterfaceError
	if errors.As(err, &nie) {
		return nil
	}
	if err != nil {
		return err
	}
	got, ok, err := n.Find(ifname, p.Addr())
	if err != nil || !ok {
		return err
	}
	if err := n.h.AddrDel(link, &netlink.Addr{IPNet: toIPNet(got)}); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("removing %s from %s%s: %w", got, ifname, n.where(), err)
	}
	return nil
}

// Probe timing: far shorter than RFC 5227's seconds, because a takeover
// waits for it. Three probes, so that two frames lost do not hide the
// holder; each has at least probeWait to be answered, a hundred times
// what a kernel on the segment takes to answer ARP, busy or not (its
// programs play no part), and an answer counts as soon as it arrives. A
// holder that answers later still is stopped (a paused guest, a machine
// frozen in its kernel), as a rule for seconds, which no probe short
// enough for a takeover outlasts: fencing it, or releasing the address
// there first, is what keeps it from coming back with the address.
const (
	probes        = 3
	probeInterval = 10 * time.Millisecond
	probeWait     = 100 * time.Millisecond
)

// arpConn is a packet socket for ARP on one link.
type arpConn struct {
	fd   int
	link netlink.Link
}

// openARP opens a packet socket in n for ARP on link. It is created for
// no protocol and then bound to ARP on link: a socket created for a
// protocol has a packet handler already, which the bind to a link would
// retire again (an RCU grace period, 10 to 20 ms) before adding its own.
func (n *Namespace) openARP(link netlink.Link) (*arpConn, error) {
	fd, err := n.socket(unix.AF_PACKET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return nil, fmt.Errorf("opening a packet socket%s (it needs CAP_NET_RAW): %w", n.where(), err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: link.Attrs().Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding a packet socket to %s%s: %w", link.Attrs().Name, n.where(), err)
	}
	return &arpConn{fd: fd, link: link}, nil
}

func (c *arpConn) Close() error { return unix.Close(c.fd) }

// send broadcasts the ARP packet b.
func (c *arpConn) send(b []byte) error {
	return unix.Sendto(c.fd, b, 0, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: c.link.Attrs().Index,
		Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}})
}

// probe sends ARP probes for ip (sender address 0.0.0.0, RFC 5227) and
// returns the MAC of a machine that answers for it, or nil. Each probe
// goes out at its time and an answer counts as soon as it arrives: the
// socket is polled until the next of the two.
func (c *arpConn) probe(ctx context.Context, ip netip.Addr) (net.HardwareAddr, error) {
	mac := c.link.Attrs().HardwareAddr
	pkt := arpPacket{Op: arpRequest, SenderMAC: mac, SenderIP: netip.IPv4Unspecified(),
		TargetMAC: make(net.HardwareAddr, 6), TargetIP: ip}.marshal()
	start := time.Now()
	end := start.Add((probes-1)*probeInterval + probeWait)
	sent := 0
	buf := make([]byte, 1500)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		now := time.Now()
		next := end
		if sent < probes {
			at := start.Add(time.Duration(sent) * probeInterval)
			if !now.Before(at) {
				if err := c.send(pkt); err != nil {
					return nil, fmt.Errorf("sending an ARP probe: %w", err)
				}
				sent++
				continue
			}
			next = at
		}
		if !now.Before(end) {
			return nil, nil
		}
		// Whole milliseconds, rounded up: poll never wakes before next.
		wait := int((next.Sub(now) + time.Millisecond - 1) / time.Millisecond)
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, wait); err != nil && !errors.Is(err, unix.EINTR) {
			return nil, fmt.Errorf("waiting for ARP answers: %w", err)
		}
		for {
			nr, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reading ARP answers: %w", err)
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
				continue
			}
			if p, ok := parseARP(buf[:nr]); ok && p.conflict(ip, mac) {
				return p.SenderMAC, nil
			}
		}
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Announcements: a few, apart, so that one lost frame does not leave a
// neighbour pointing at the old holder.
const (
	announcements        = 3
	announcementInterval = 100 * time.Millisecond
)

// announce tells link's neighbours that this machine now holds ip:
// gratuitous ARP requests on arp for IPv4, unsolicited neighbour
// advertisements with the override flag for IPv6.
func (n *Namespace) announce(ctx context.Context, link netlink.Link, ip netip.Addr, arp *arpConn) error {
	var send func() error
	if ip.Is4() {
		garp := arpPacket{Op: arpRequest, SenderMAC: link.Attrs().HardwareAddr, SenderIP: ip, TargetMAC: make(net.HardwareAddr, 6), TargetIP: ip}.marshal()
		send = func() error { return arp.send(garp) }
	} else {
		na, err := n.openNA(link, ip)
		if err != nil {
			return err
		}
		defer na.Close()
		send = na.send
	}
	for i := range announcements {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(announcementInterval):
			}
		}
		if err := send(); err != nil {
			return err
		}
	}
	return nil
}

// naConn is a raw ICMPv6 socket that sends unsolicited neighbour
// advertisements of one address on one link.
type naConn struct {
	fd       int
	advert   []byte
	allNodes *unix.SockaddrInet6
}

func (n *Namespace) openNA(link netlink.Link, ip netip.Addr) (*naConn, error) {
	fd, err := n.socket(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
	if err != nil {
		return nil, err
	}
	// Neighbour discovery messages go out with hop limit 255 (receivers
	// drop others), from the address itself.
	for _, opt := range []struct{ name, value int }{
		{unix.IPV6_MULTICAST_HOPS, 255}, {unix.IPV6_UNICAST_HOPS, 255}, {unix.IPV6_MULTICAST_IF, link.Attrs().Index},
	} {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, opt.name, opt.value); err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: ip.As16(), ZoneId: uint32(link.Attrs().Index)}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &naConn{fd: fd, advert: neighbourAdvert(ip, link.Attrs().HardwareAddr),
		allNodes: &unix.SockaddrInet6{Addr: netip.MustParseAddr("ff02::1").As16(), ZoneId: uint32(link.Attrs().Index)}}, nil
}

func (c *naConn) send() error  { return unix.Sendto(c.fd, c.advert, 0, c.allNodes) }
func (c *naConn) Close() error { return unix.Close(c.fd) }
