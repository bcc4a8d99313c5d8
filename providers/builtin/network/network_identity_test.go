package network

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/dnstest"
	"github.com/drover-dr/drover/providers/builtin/network/dnsupdate"
	"github.com/zclconf/go-cty/cty"
)

// TestNetworkIdentityTakeover plays a failover of a file server's whole
// identity with real components: fs1, fs2 and a client as network
// namespaces on a bridge, knotd serving example.test, smbd with its own
// configuration, and this test in a UTS namespace of its own. One apply
// releases fs1's address, takes it on fs2 (probed, announced), moves the
// DNS records, takes the host name with its NetBIOS alias and the share;
// destroy gives every part back in reverse.
func TestNetworkIdentityTakeover(t *testing.T) {
	if !inOwnUTS(t) {
		return
	}
	l := newLab(t, "fs1", "fs2", "client")
	knotd := testenv.Command(t, "knotd", "knot")
	kdig := testenv.Command(t, "kdig", "knot-dnsutils")
	dns := dnstest.New(t, knotd)
	s := newSambaEnv(t)
	testparm := testenv.Command(t, "testparm", "samba-common-bin")
	e := newResourceEnv(t, "network_identity")
	const service = "192.0.2.10"
	l.run("-n", l.netns["fs1"], "addr", "add", service+"/24", "dev", "eth0")
	original, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	addr := net.JoinHostPort(service, "8445")
	l.serve("fs1", addr)
	if got := l.ask("client", addr); got != "fs1" {
		t.Fatalf("before the takeover the client reaches %q, want fs1", got)
	}

	tsig := cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(dns.Key.Name),
		"algorithm": cty.StringVal(dns.Key.Algorithm), "secret": cty.StringVal(dns.Key.Secret)})
	record := func(name string, ttl int64, values ...string) cty.Value {
		vals := make([]cty.Value, 0, len(values))
		for _, v := range values {
			vals = append(vals, cty.StringVal(v))
		}
		return cty.ObjectVal(map[string]cty.Value{"server": cty.StringVal(dns.Addr), "zone": cty.StringVal(dnstest.Zone),
			"name": cty.StringVal(name), "type": cty.StringVal("A"), "ttl": cty.NumberIntVal(ttl), "values": cty.SetVal(vals), "tsig": tsig})
	}
	config := e.config(map[string]cty.Value{
		"host":            l.host("fs2"),
		"release_from":    l.host("fs1"),
		"host_name":       cty.StringVal("fs1"),
		"netbios_aliases": cty.ListVal([]cty.Value{cty.StringVal("FS1")}),
		"smb_conf":        cty.StringVal(s.srv.Conf),
		"address": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"interface": cty.StringVal("eth0"),
			"address": cty.StringVal(service + "/24"), "force": cty.NullVal(cty.Bool), "announce": cty.NullVal(cty.Bool)})}),
		"dns_record": cty.ListVal([]cty.Value{record("fs1", 60, service), record("www", 60, service)}),
		"share": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("data"), "path": cty.StringVal(data),
			"read_only": cty.False, "comment": cty.StringVal("fs1's data")})}),
	})

	plan := e.plan(cty.NullVal(e.objectType()), config)
	want := strings.Join([]string{
		"take over the identity on fs2:",
		"+ 192.0.2.10/24 on fs2:eth0 (announce, released from fs1)",
		"~ fs1.example.test A 192.0.2.10 -> 192.0.2.10 (TTL 300 -> 60)",
		"+ www.example.test A 192.0.2.10 (TTL 60)",
		"+ host name fs1 on fs2 (NetBIOS alias FS1)",
		"+ share data on fs2: " + data + " (read-write)",
	}, "\n")
	if plan.Description != want {
		t.Errorf("description:\n%s\nwant:\n%s", plan.Description, want)
	}
	resp := e.apply(cty.NullVal(e.objectType()), plan.Planned)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	state := resp.New

	if l.holds("fs1", service) || !l.holds("fs2", service) {
		t.Errorf("after the takeover fs1 holds %s: %v, fs2: %v", service, l.holds("fs1", service), l.holds("fs2", service))
	}
	if got := l.neighbour("client", service); got != l.mac("fs2") {
		t.Errorf("the client's neighbour table holds %q for %s, want fs2's %s", got, service, l.mac("fs2"))
	}
	l.serve("fs2", addr)
	if got := l.ask("client", addr); got != "fs2" {
		t.Errorf("after the takeover the client reaches %q, want fs2", got)
	}
	ttlOf := func(name string) (uint32, bool) {
		got, found, err := (&dnsupdate.Client{Server: dns.Addr}).Query(t.Context(), dnsupdate.RRset{Zone: dnstest.Zone, Name: name, Type: "A"})
		if err != nil {
			t.Fatal(err)
		}
		return got.TTL, found
	}
	if ttl, _ := ttlOf("fs1"); ttl != 60 {
		t.Errorf("fs1's TTL %d after the takeover, want 60", ttl)
	}
	if got, err := dns.Dig(t.Context(), kdig, "www", "A"); err != nil || strings.Join(got, " ") != service {
		t.Errorf("kdig www: %v, %v", got, err)
	}
	if got, _ := os.Hostname(); got != "fs1" {
		t.Errorf("host name %q after the takeover, want fs1", got)
	}
	aliasesOf := func() string {
		out, err := exec.Command(testparm, "-s", "--parameter-name", "netbios aliases", s.srv.Conf).Output()
		if err != nil {
			t.Fatalf("testparm: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := aliasesOf(); got != "FS1" {
		t.Errorf("netbios aliases %q, want FS1", got)
	}
	listed, err := s.srv.List(t.Context(), s.smbclient, "FS1", "CLIENT")
	if err != nil || !strings.Contains(strings.Join(shareNames(listed), " "), "data") {
		t.Errorf("smbclient -L //FS1 after the takeover: %v, %v", listed, err)
	}
	if got := e.read(state); !got.RawEquals(state) {
		t.Errorf("read after the takeover differs:\n%#v\n%#v", got, state)
	}
	if plan := e.plan(state, config); !plan.Planned.RawEquals(state) || plan.Description != "" {
		t.Errorf("a second plan changes something: %q", plan.Description)
	}

	// A part gone behind Drover's back drops out on refresh; the next
	// apply takes it again.
	l.run("-n", l.netns["fs2"], "addr", "del", service+"/24", "dev", "eth0")
	drifted := e.read(state)
	plan = e.plan(drifted, config)
	if want := "change the identity on fs2:\n+ 192.0.2.10/24 on fs2:eth0 (announce, released from fs1)"; plan.Description != want {
		t.Errorf("description after the address went:\n%s\nwant:\n%s", plan.Description, want)
	}
	if resp := e.apply(drifted, plan.Planned); resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	} else {
		state = resp.New
	}
	if !l.holds("fs2", service) {
		t.Error("fs2 did not take the address again")
	}

	e.destroy(state)
	if l.holds("fs2", service) {
		t.Error("fs2 still holds the address after destroy")
	}
	if ttl, found := ttlOf("fs1"); !found || ttl != 300 {
		t.Errorf("fs1 after destroy: found %v, TTL %d, want its TTL 300 back", found, ttl)
	}
	if _, found := ttlOf("www"); found {
		t.Error("www is left after destroy")
	}
	if got, _ := os.Hostname(); got != original {
		t.Errorf("host name %q after destroy, want %q", got, original)
	}
	if got := aliasesOf(); got != "" {
		t.Errorf("netbios aliases %q after destroy", got)
	}
	if got := s.shares(t, ""); len(got) != 0 {
		t.Errorf("shares after destroy: %v", got)
	}
	if got := e.read(state); !got.IsNull() {
		t.Errorf("read after destroy: %#v", got)
	}
}

// TestNetworkIdentityOldHolder: while the old holder still answers for
// the address and the identity does not name it in release_from, the
// takeover is refused and nothing moves; an old holder named but not
// reachable is passed over with a warning, and the probe decides.
func TestNetworkIdentityOldHolder(t *testing.T) {
	l := newLab(t, "fs1", "fs2")
	e := newResourceEnv(t, "network_identity")
	l.run("-n", l.netns["fs1"], "addr", "add", "192.0.2.10/24", "dev", "eth0")
	config := func(release cty.Value) cty.Value {
		return e.config(map[string]cty.Value{"host": l.host("fs2"), "release_from": release,
			"address": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"interface": cty.StringVal("eth0"),
				"address": cty.StringVal("192.0.2.10/24"), "force": cty.NullVal(cty.Bool), "announce": cty.NullVal(cty.Bool)})})})
	}
	none := cty.NullVal(e.objectType())

	resp := e.apply(none, e.plan(none, config(cty.NullVal(host.Type))).Planned)
	got := errorText(resp.Diagnostics)
	if !strings.Contains(got, "192.0.2.10 is still held by the machine with MAC "+l.mac("fs1")) {
		t.Errorf("taking the address fs1 holds: %q", got)
	}
	if len(resp.Diagnostics) == 0 || !resp.Diagnostics[0].Path.Equals(cty.GetAttrPath("address").IndexInt(0).GetAttr("address")) {
		t.Errorf("the error is not about address[0].address: %#v", resp.Diagnostics)
	}
	if l.holds("fs2", "192.0.2.10") || !l.holds("fs1", "192.0.2.10") {
		t.Error("the refused takeover moved the address")
	}

	// fs1 is down: it answers nothing, and Drover cannot reach it (a
	// namespace that does not exist plays a machine that does not answer).
	// Named in release_from, it is passed over; nobody answers the probe,
	// so fs2 takes the address.
	l.run("-n", l.netns["fs1"], "link", "set", "eth0", "down")
	down := host.Config{Name: "fs1", Netns: l.netns["fs1"] + "-gone"}.Value()
	resp = e.apply(none, e.plan(none, config(down)).Planned)
	if resp.Diagnostics.HasErrors() {
		t.Fatal(errorText(resp.Diagnostics))
	}
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary != "Old holder not reached" ||
		!strings.Contains(resp.Diagnostics[0].Detail, "Releasing 192.0.2.10/24 on fs1") || strings.Contains(resp.Diagnostics[0].Detail, "..") {
		t.Errorf("warnings %#v, want one that fs1 was not reached", resp.Diagnostics)
	}
	if !l.holds("fs2", "192.0.2.10") {
		t.Error("fs2 did not take the address")
	}
}

// TestNetworkIdentityUndo: when a later part fails (the share's folder
// went between plan and apply), the parts taken before it are given
// back, so that the identity is either moved or left as it was.
func TestNetworkIdentityUndo(t *testing.T) {
	l := newLab(t, "fs2")
	dns := dnstest.New(t, testenv.Command(t, "knotd", "knot"))
	s := newSambaEnv(t)
	e := newResourceEnv(t, "network_identity")
	data := t.TempDir()
	tsig := cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(dns.Key.Name),
		"algorithm": cty.StringVal(dns.Key.Algorithm), "secret": cty.StringVal(dns.Key.Secret)})
	config := e.config(map[string]cty.Value{
		"host":     l.host("fs2"),
		"smb_conf": cty.StringVal(s.srv.Conf),
		"address": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"interface": cty.StringVal("eth0"),
			"address": cty.StringVal("192.0.2.10/24"), "force": cty.NullVal(cty.Bool), "announce": cty.False})}),
		"dns_record": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"server": cty.StringVal(dns.Addr), "zone": cty.StringVal(dnstest.Zone),
			"name": cty.StringVal("www"), "type": cty.StringVal("A"), "ttl": cty.NullVal(cty.Number),
			"values": cty.SetVal([]cty.Value{cty.StringVal("192.0.2.10")}), "tsig": tsig})}),
		"share": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("data"), "path": cty.StringVal(data),
			"read_only": cty.NullVal(cty.Bool), "comment": cty.NullVal(cty.String)})}),
	})
	plan := e.plan(cty.NullVal(e.objectType()), config)
	if err := os.Remove(data); err != nil {
		t.Fatal(err)
	}
	resp := e.apply(cty.NullVal(e.objectType()), plan.Planned)
	if got := errorText(resp.Diagnostics); !strings.Contains(got, "There is no folder "+data) {
		t.Fatalf("apply with the share's folder gone: %q", got)
	}
	if !resp.Diagnostics[0].Path.Equals(cty.GetAttrPath("share").IndexInt(0).GetAttr("path")) {
		t.Errorf("the error is not about share[0].path: %#v", resp.Diagnostics[0].Path)
	}
	if l.holds("fs2", "192.0.2.10") {
		t.Error("fs2 kept the address of the failed takeover")
	}
	if _, found, err := (&dnsupdate.Client{Server: dns.Addr}).Query(t.Context(), dnsupdate.RRset{Zone: dnstest.Zone, Name: "www", Type: "A"}); err != nil || found {
		t.Errorf("www after the failed takeover: found %v, %v", found, err)
	}
}

func TestNetworkIdentityValidate(t *testing.T) {
	e := newResourceEnv(t, "network_identity")
	local := host.Config{Name: "fs2"}.Value()
	address := func(addr string) cty.Value {
		return cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"interface": cty.StringVal("eth0"),
			"address": cty.StringVal(addr), "force": cty.NullVal(cty.Bool), "announce": cty.NullVal(cty.Bool)})})
	}
	for _, tc := range []struct {
		name  string
		attrs map[string]cty.Value
		path  cty.Path
		want  string
	}{
		{"bad address", map[string]cty.Value{"host": local, "address": address("192.0.2.10")},
			cty.GetAttrPath("address").IndexInt(0).GetAttr("address"), `the address "192.0.2.10" is not an address with its prefix length`},
		{"aliases without a name", map[string]cty.Value{"host": local, "netbios_aliases": cty.ListVal([]cty.Value{cty.StringVal("FS1")})},
			cty.GetAttrPath("netbios_aliases"), "set host_name too"},
		{"bad host name", map[string]cty.Value{"host": local, "host_name": cty.StringVal("fs_1")},
			cty.GetAttrPath("host_name"), `"fs_1" is not a host name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.p.Validate(t.Context(), providers.ValidateRequest{Kind: providers.KindResource, TypeName: "network_identity", Config: e.config(tc.attrs)})
			if got := errorText(resp.Diagnostics); !strings.Contains(strings.ToLower(got), strings.ToLower(tc.want)) {
				t.Errorf("the error %q does not say %q", got, tc.want)
			}
			if len(resp.Diagnostics) == 0 || !resp.Diagnostics[0].Path.Equals(tc.path) {
				t.Errorf("the error is not about %#v: %#v", tc.path, resp.Diagnostics)
			}
		})
	}
}
