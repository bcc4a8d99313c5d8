package network

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"github.com/zclconf/go-cty/cty"
)

// lab is machines played by network namespaces on one bridge: each has
// eth0, a veth whose peer is a port of the bridge, in a namespace of its
// own, with the address 192.0.2.N/24 (N = 1, 2, ... in the order given).
// Cleanup deletes every namespace, which deletes the links in them.
type lab struct {
	t     *testing.T
	ip    string
	netns map[string]string // machine → namespace
}

func newLab(t *testing.T, machines ...string) *lab {
	t.Helper()
	testenv.Root(t)
	l := &lab{t: t, ip: testenv.Command(t, "ip", "iproute2"), netns: map[string]string{}}
	b := make([]byte, 3)
	rand.Read(b)
	suffix := hex.EncodeToString(b)
	sw := "drover-t-sw-" + suffix
	l.run("netns", "add", sw)
	t.Cleanup(func() { l.run("netns", "del", sw) })
	l.run("-n", sw, "link", "add", "br0", "type", "bridge")
	l.run("-n", sw, "link", "set", "br0", "up")
	for i, m := range machines {
		ns := "drover-t-" + m + "-" + suffix
		l.run("netns", "add", ns)
		t.Cleanup(func() { l.run("netns", "del", ns) })
		l.netns[m] = ns
		port := fmt.Sprintf("p%d", i)
		l.run("-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
		l.run("-n", sw, "link", "set", port, "master", "br0", "up")
		l.run("-n", ns, "link", "set", "lo", "up")
		l.run("-n", ns, "addr", "add", fmt.Sprintf("192.0.2.%d/24", i+1), "dev", "eth0")
		l.run("-n", ns, "link", "set", "eth0", "up")
	}
	return l
}

func (l *lab) run(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(l.ip, args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// host is machine m as a host block names it.
func (l *lab) host(m string) cty.Value { return host.Config{Name: m, Netns: l.netns[m]}.Value() }

// in runs f on a thread in m's namespace: sockets f creates belong there.
func (l *lab) in(m string, f func()) {
	l.t.Helper()
	ns, err := netns.GetFromName(l.netns[m])
	if err != nil {
		l.t.Fatal(err)
	}
	defer ns.Close()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			done <- err
			return
		}
		f()
		if err := netns.Set(orig); err != nil {
			done <- err // the thread stays locked and ends with the goroutine
			return
		}
		runtime.UnlockOSThread()
		done <- nil
	}()
	if err := <-done; err != nil {
		l.t.Fatal(err)
	}
}

// serve listens on addr in m's namespace and answers every connection
// with m's name, until the test ends.
func (l *lab) serve(m, addr string) {
	l.t.Helper()
	var ln net.Listener
	var err error
	l.in(m, func() { ln, err = net.Listen("tcp", addr) })
	if err != nil {
		l.t.Fatalf("listening on %s in %s: %v", addr, m, err)
	}
	l.t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, m)
			c.Close()
		}
	}()
}

// ask connects from m to addr and returns what the server there says.
func (l *lab) ask(m, addr string) string {
	l.t.Helper()
	var c net.Conn
	var err error
	l.in(m, func() { c, err = net.DialTimeout("tcp", addr, 2*time.Second) })
	if err != nil {
		l.t.Fatalf("connecting from %s to %s: %v", m, addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		l.t.Fatalf("reading from %s at %s: %v", addr, m, err)
	}
	return string(b)
}

// handle is netlink in m's namespace.
func (l *lab) handle(m string) *netlink.Handle {
	l.t.Helper()
	ns, err := netns.GetFromName(l.netns[m])
	if err != nil {
		l.t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(h.Close)
	return h
}

// mac is the MAC of m's eth0.
func (l *lab) mac(m string) string {
	l.t.Helper()
	link, err := l.handle(m).LinkByName("eth0")
	if err != nil {
		l.t.Fatal(err)
	}
	return link.Attrs().HardwareAddr.String()
}

// neighbour is the MAC m's neighbour table holds for ip on eth0, "" when none.
func (l *lab) neighbour(m, ip string) string {
	l.t.Helper()
	h := l.handle(m)
	link, err := h.LinkByName("eth0")
	if err != nil {
		l.t.Fatal(err)
	}
	neighs, err := h.NeighList(link.Attrs().Index, netlink.FAMILY_ALL)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, n := range neighs {
		if n.IP.String() == ip {
			return n.HardwareAddr.String()
		}
	}
	return ""
}

// holds says whether m's eth0 has the address ip.
func (l *lab) holds(m, ip string) bool {
	l.t.Helper()
	h := l.handle(m)
	link, err := h.LinkByName("eth0")
	if err != nil {
		l.t.Fatal(err)
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, a := range addrs {
		if a.IP.String() == ip {
			return true
		}
	}
	return false
}
