package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/drover-dr/drover/providers/builtin/network/dnstest"
	"github.com/drover-dr/drover/providers/builtin/network/nfstest"
	"github.com/drover-dr/drover/providers/builtin/network/sambatest"
	"github.com/rogpeppe/go-internal/testscript"
)

// networkCmds are the script commands that start and change real network
// services for the scripts' drover processes to use.
var networkCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// dnsserver knotd|named: starts that DNS server on a 127.0.0.1 high
	// port, serving example.test from $WORK/dns-SERVER, until the script
	// ends, and sets DNS_SERVER (host:port), DNS_PORT, DNS_KEY_NAME,
	// DNS_KEY_SECRET and DNS_KEY_SECRET_RE (the secret as a regexp that
	// matches it, for `! stdout`: base64 holds `+`). Scripts skip for a
	// missing server themselves:
	// `[!exec:knotd] [!ci] skip`.
	"dnsserver": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 || (args[0] != "knotd" && args[0] != "named") {
			ts.Fatalf("usage: dnsserver knotd|named")
		}
		exe, err := exec.LookPath(args[0])
		ts.Check(err)
		s, err := dnstest.Start(context.Background(), exe, ts.MkAbs("dns-"+args[0]))
		ts.Check(err)
		servers.Store(ts, s)
		ts.Defer(func() {
			servers.Delete(ts)
			s.Stop()
		})
		_, port, _ := net.SplitHostPort(s.Addr)
		ts.Setenv("DNS_SERVER", s.Addr)
		ts.Setenv("DNS_PORT", port)
		ts.Setenv("DNS_KEY_NAME", s.Key.Name)
		ts.Setenv("DNS_KEY_SECRET", s.Key.Secret)
		ts.Setenv("DNS_KEY_SECRET_RE", regexp.QuoteMeta(s.Key.Secret))
	},
	// dnsset NAME TYPE TTL VALUE...: changes a record of the script's
	// DNS server unconditionally, as an operator would behind Drover's back.
	"dnsset": func(ts *testscript.TestScript, neg bool, args []string) {
		v, ok := servers.Load(ts)
		if neg || len(args) < 4 || !ok {
			ts.Fatalf("usage: dnsset NAME TYPE TTL VALUE... (after dnsserver)")
		}
		ttl, err := strconv.ParseUint(args[2], 10, 32)
		ts.Check(err)
		ts.Check(v.(*dnstest.Server).Set(context.Background(), args[0], args[1], uint32(ttl), args[3:]...))
	},
	// netns: a network namespace, deleted when the script ends, whose eth0
	// (a veth whose peer is eth1) has 192.0.2.1/24; sets NETNS to its name.
	// Needs root and ip (iproute2).
	"netns": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: netns")
		}
		b := make([]byte, 3)
		rand.Read(b)
		ns := "drover-t-script-" + hex.EncodeToString(b)
		ip := func(args ...string) {
			out, err := exec.Command("ip", args...).CombinedOutput()
			if err != nil {
				ts.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
		ip("netns", "add", ns)
		ts.Defer(func() { exec.Command("ip", "netns", "del", ns).Run() })
		ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
		ip("-n", ns, "addr", "add", "192.0.2.1/24", "dev", "eth0")
		ip("-n", ns, "link", "set", "eth0", "up")
		ip("-n", ns, "link", "set", "eth1", "up")
		ts.Setenv("NETNS", ns)
	},
	// netlab MACHINE...: machines played by network namespaces on one
	// bridge, deleted when the script ends: each has eth0 with
	// 192.0.2.N/24 (N = 1, 2, ... in the order given); sets NETNS_MACHINE
	// to each one's namespace. Needs root and ip (iproute2).
	"netlab": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) == 0 {
			ts.Fatalf("usage: netlab MACHINE...")
		}
		b := make([]byte, 3)
		rand.Read(b)
		suffix := hex.EncodeToString(b)
		ip := func(args ...string) {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				ts.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
		sw := "drover-t-sw-" + suffix
		ip("netns", "add", sw)
		ts.Defer(func() { exec.Command("ip", "netns", "del", sw).Run() })
		ip("-n", sw, "link", "add", "br0", "type", "bridge")
		ip("-n", sw, "link", "set", "br0", "up")
		for i, m := range args {
			ns := "drover-t-" + m + "-" + suffix
			ip("netns", "add", ns)
			ts.Defer(func() { exec.Command("ip", "netns", "del", ns).Run() })
			port := "p" + strconv.Itoa(i)
			ip("-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
			ip("-n", sw, "link", "set", port, "master", "br0", "up")
			ip("-n", ns, "link", "set", "lo", "up")
			ip("-n", ns, "addr", "add", "192.0.2."+strconv.Itoa(i+1)+"/24", "dev", "eth0")
			ip("-n", ns, "link", "set", "eth0", "up")
			ts.Setenv("NETNS_"+m, ns)
		}
	},
	// smbserver: starts smbd with its own configuration in $TMPDIR/smbd on a
	// 127.0.0.1 high port until the script ends; sets SMB_CONF (the
	// configuration file) and SMB_PORT. Scripts skip for a missing smbd
	// themselves.
	"smbserver": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: smbserver")
		}
		exe, err := exec.LookPath("smbd")
		ts.Check(err)
		s, err := sambatest.Start(context.Background(), exe, filepath.Join(ts.Getenv("TMPDIR"), "smbd"))
		ts.Check(err)
		ts.Defer(s.Stop)
		ts.Setenv("SMB_CONF", s.Conf)
		ts.Setenv("SMB_PORT", strconv.Itoa(s.Port))
	},
	// nfsserver: starts ganesha.nfsd (NFSv4) with its own configuration in
	// $TMPDIR/ganesha on a 127.0.0.1 high port until the script ends; sets
	// NFS_CONF (the configuration file), NFS_PID_FILE and NFS_PORT.
	// Scripts skip for a missing ganesha.nfsd themselves.
	"nfsserver": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: nfsserver")
		}
		exe, err := exec.LookPath("ganesha.nfsd")
		ts.Check(err)
		s, err := nfstest.Start(context.Background(), exe, filepath.Join(ts.Getenv("TMPDIR"), "ganesha"))
		ts.Check(err)
		ts.Defer(s.Stop)
		ts.Setenv("NFS_CONF", s.Conf)
		ts.Setenv("NFS_PID_FILE", s.PidFile)
		ts.Setenv("NFS_PORT", strconv.Itoa(s.Port))
	},
	// utsns: a UTS namespace of the script's own, kept by a bind mount at
	// $TMPDIR/uts until the script ends; sets UTSNS to that file. Commands
	// that may change the host name run in it: exec nsenter --uts=$UTSNS
	// drover apply. Needs root and unshare (util-linux).
	"utsns": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: utsns")
		}
		f := filepath.Join(ts.Getenv("TMPDIR"), "uts")
		ts.Check(os.WriteFile(f, nil, 0o600))
		if out, err := exec.Command("unshare", "--uts="+f, "true").CombinedOutput(); err != nil {
			ts.Fatalf("unshare --uts=%s: %v: %s", f, err, out)
		}
		ts.Defer(func() { exec.Command("umount", f).Run() })
		ts.Setenv("UTSNS", f)
	},
}

// servers holds the DNS server of each running script (scripts run in
// parallel): *testscript.TestScript → *dnstest.Server.
var servers sync.Map
