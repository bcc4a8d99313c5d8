package network

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/sdk"
	"github.com/zclconf/go-cty/cty"
)

var ipType = ipAddressSchema.Block.ImpliedType()

type ipEnv struct {
	t *testing.T
	p providers.Provider
}

func newIPEnv(t *testing.T) *ipEnv { return &ipEnv{t: t, p: sdk.New(New())} }

// config is an ip_address configuration as the decoder gives it.
func ipConfig(h cty.Value, iface, addr string, attrs map[string]cty.Value) cty.Value {
	m := map[string]cty.Value{}
	for n, ty := range ipType.AttributeTypes() {
		m[n] = cty.NullVal(ty)
	}
	m["host"], m["interface"], m["address"] = h, cty.StringVal(iface), cty.StringVal(addr)
	for k, v := range attrs {
		m[k] = v
	}
	return cty.ObjectVal(m)
}

func (e *ipEnv) plan(prior, config cty.Value) providers.PlanResponse {
	e.t.Helper()
	resp := e.p.Plan(e.t.Context(), providers.PlanRequest{TypeName: "ip_address", Prior: prior, Config: config})
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("plan: %s", errorText(resp.Diagnostics))
	}
	return resp
}

func (e *ipEnv) apply(prior, planned cty.Value) providers.ApplyResponse {
	e.t.Helper()
	return e.p.Apply(e.t.Context(), providers.ApplyRequest{TypeName: "ip_address", Prior: prior, Planned: planned})
}

// create plans and applies config from nothing.
func (e *ipEnv) create(config cty.Value) providers.ApplyResponse {
	e.t.Helper()
	none := cty.NullVal(ipType)
	return e.apply(none, e.plan(none, config).Planned)
}

func (e *ipEnv) read(state cty.Value) cty.Value {
	e.t.Helper()
	resp := e.p.Read(e.t.Context(), providers.ReadRequest{TypeName: "ip_address", Prior: state})
	if resp.Diagnostics.HasErrors() {
		e.t.Fatalf("read: %s", errorText(resp.Diagnostics))
	}
	return resp.New
}

// TestIPAddressTakeover plays a failover: fs1 holds 192.0.2.10 and a client
// talks to it; fs2 may not take the address while fs1 answers for it;
// once fs1 releases it, fs2 takes it, and the client's neighbour table
// points at fs2 right after the apply (the gratuitous ARP), so its next
// connection reaches fs2.
func TestIPAddressTakeover(t *testing.T) {
	l := newLab(t, "fs1", "fs2", "client")
	e := newIPEnv(t)
	const service = "192.0.2.10"
	addr := net.JoinHostPort(service, "8445")

	onFS1 := e.create(ipConfig(l.host("fs1"), "eth0", service+"/24", nil))
	if onFS1.Diagnostics.HasErrors() {
		t.Fatalf("fs1 takes %s: %s", service, errorText(onFS1.Diagnostics))
	}
	l.serve("fs1", addr)
	if got := l.ask("client", addr); got != "fs1" {
		t.Fatalf("before the failover the client reaches %q, want fs1", got)
	}
	if got := l.neighbour("client", service); got != l.mac("fs1") {
		t.Fatalf("the client's neighbour table holds %q for %s, want fs1's %s", got, service, l.mac("fs1"))
	}

	toFS2 := ipConfig(l.host("fs2"), "eth0", service+"/24", nil)
	plan := e.plan(cty.NullVal(ipType), toFS2)
	if want := "+ 192.0.2.10/24 on fs2:eth0 (announce)"; plan.Description != want {
		t.Errorf("description %q, want %q", plan.Description, want)
	}
	refused := e.apply(cty.NullVal(ipType), plan.Planned)
	got := errorText(refused.Diagnostics)
	for _, want := range []string{"192.0.2.10 is still held by the machine with MAC " + l.mac("fs1"), "split-brain", "force = true"} {
		if !strings.Contains(got, want) {
			t.Errorf("taking the address fs1 holds: the error %q does not say %q", got, want)
		}
	}
	if l.holds("fs2", service) {
		t.Fatal("fs2 took the address fs1 holds")
	}

	if resp := e.apply(onFS1.New, cty.NullVal(ipType)); resp.Diagnostics.HasErrors() {
		t.Fatalf("fs1 releases %s: %s", service, errorText(resp.Diagnostics))
	}
	if l.holds("fs1", service) {
		t.Fatal("fs1 still holds the address after the delete")
	}
	if got := e.read(onFS1.New); !got.IsNull() {
		t.Errorf("read after delete: %#v", got)
	}

	onFS2 := e.create(toFS2)
	if onFS2.Diagnostics.HasErrors() {
		t.Fatalf("fs2 takes %s: %s", service, errorText(onFS2.Diagnostics))
	}
	if got := l.neighbour("client", service); got != l.mac("fs2") {
		t.Errorf("right after the takeover the client's neighbour table holds %q for %s, want fs2's %s", got, service, l.mac("fs2"))
	}
	l.serve("fs2", addr)
	if got := l.ask("client", addr); got != "fs2" {
		t.Errorf("after the failover the client reaches %q, want fs2", got)
	}
	if got := e.read(onFS2.New); !got.RawEquals(onFS2.New) {
		t.Errorf("read after create differs:\n%#v\n%#v", got, onFS2.New)
	}

	// Gone behind Drover's back: refresh finds it gone, so the next plan
	// takes it again.
	l.run("-n", l.netns["fs2"], "addr", "del", service+"/24", "dev", "eth0")
	if got := e.read(onFS2.New); !got.IsNull() {
		t.Errorf("read of an address removed by hand: %#v", got)
	}
}

// TestIPAddressTakeoverIPv6 is the failover with an IPv6 address: the
// kernel's duplicate address detection on fs2, then an unsolicited
// neighbour advertisement that moves the client's neighbour entry.
func TestIPAddressTakeoverIPv6(t *testing.T) {
	l := newLab(t, "fs1", "fs2", "client")
	e := newIPEnv(t)
	for i, m := range []string{"fs1", "fs2", "client"} {
		l.run("-n", l.netns[m], "addr", "add", fmt.Sprintf("2001:db8::%d/64", i+1), "dev", "eth0", "nodad")
	}
	const service = "2001:db8::10"
	addr := net.JoinHostPort(service, "8445")
	onFS1 := e.create(ipConfig(l.host("fs1"), "eth0", service+"/64", nil))
	if onFS1.Diagnostics.HasErrors() {
		t.Fatalf("fs1 takes %s: %s", service, errorText(onFS1.Diagnostics))
	}
	l.serve("fs1", addr)
	if got := l.ask("client", addr); got != "fs1" {
		t.Fatalf("before the failover the client reaches %q, want fs1", got)
	}
	if resp := e.apply(onFS1.New, cty.NullVal(ipType)); resp.Diagnostics.HasErrors() {
		t.Fatalf("fs1 releases %s: %s", service, errorText(resp.Diagnostics))
	}
	onFS2 := e.create(ipConfig(l.host("fs2"), "eth0", service+"/64", nil))
	if onFS2.Diagnostics.HasErrors() {
		t.Fatalf("fs2 takes %s: %s", service, errorText(onFS2.Diagnostics))
	}
	if got := l.neighbour("client", service); got != l.mac("fs2") {
		t.Errorf("right after the takeover the client's neighbour table holds %q for %s, want fs2's %s", got, service, l.mac("fs2"))
	}
	l.serve("fs2", addr)
	if got := l.ask("client", addr); got != "fs2" {
		t.Errorf("after the failover the client reaches %q, want fs2", got)
	}
}

func TestIPAddressRefusals(t *testing.T) {
	l := newLab(t, "fs1", "fs2")
	e := newIPEnv(t)
	force := map[string]cty.Value{"force": cty.True}
	for _, tc := range []struct {
		name   string
		config cty.Value
		path   string
		want   []string
	}{
		{"no such interface", ipConfig(l.host("fs2"), "eth9", "192.0.2.10/24", nil), "interface",
			[]string{`There is no interface "eth9" in the network namespace "` + l.netns["fs2"] + `"; the interfaces are: eth0, lo`}},
		{"outside every subnet", ipConfig(l.host("fs2"), "eth0", "198.51.100.10/24", nil), "address",
			[]string{"198.51.100.10 is outside every subnet of eth0 (192.0.2.0/24)", "force = true"}},
		{"no IPv6 subnet", ipConfig(l.host("fs2"), "eth0", "2001:db8::10/64", nil), "address",
			[]string{"eth0 has no IPv6 subnet for 2001:db8::10/64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Refused by the plan, which names the configuration line.
			resp := e.p.Plan(t.Context(), providers.PlanRequest{TypeName: "ip_address", Prior: cty.NullVal(ipType), Config: tc.config})
			got := errorText(resp.Diagnostics)
			for _, want := range tc.want {
				if !strings.Contains(got, want) {
					t.Errorf("the error %q does not say %q", got, want)
				}
			}
			if len(resp.Diagnostics) == 0 || !resp.Diagnostics[0].Path.Equals(cty.GetAttrPath(tc.path)) {
				t.Errorf("the error is not about %s: %#v", tc.path, resp.Diagnostics)
			}
		})
	}

	t.Run("subnet gone between plan and apply", func(t *testing.T) {
		none := cty.NullVal(ipType)
		plan := e.plan(none, ipConfig(l.host("fs1"), "eth0", "192.0.2.10/24", nil))
		l.run("-n", l.netns["fs1"], "addr", "del", "192.0.2.1/24", "dev", "eth0")
		defer l.run("-n", l.netns["fs1"], "addr", "add", "192.0.2.1/24", "dev", "eth0")
		resp := e.apply(none, plan.Planned)
		if got := errorText(resp.Diagnostics); !strings.Contains(got, "eth0 has no IPv4 subnet for 192.0.2.10/24") {
			t.Errorf("apply after the subnet went: %q", got)
		}
		if l.holds("fs1", "192.0.2.10") {
			t.Error("fs1 took the address all the same")
		}
	})

	t.Run("force outside every subnet", func(t *testing.T) {
		resp := e.create(ipConfig(l.host("fs2"), "eth0", "198.51.100.10/24", force))
		if resp.Diagnostics.HasErrors() {
			t.Fatal(errorText(resp.Diagnostics))
		}
		if !l.holds("fs2", "198.51.100.10") {
			t.Error("fs2 does not hold the forced address")
		}
	})

	t.Run("IPv6 held elsewhere", func(t *testing.T) {
		for _, m := range []string{"fs1", "fs2"} {
			l.run("-n", l.netns[m], "addr", "add", map[string]string{"fs1": "2001:db8::1/64", "fs2": "2001:db8::2/64"}[m], "dev", "eth0", "nodad")
		}
		if resp := e.create(ipConfig(l.host("fs1"), "eth0", "2001:db8::10/64", nil)); resp.Diagnostics.HasErrors() {
			t.Fatalf("fs1 takes 2001:db8::10: %s", errorText(resp.Diagnostics))
		}
		resp := e.create(ipConfig(l.host("fs2"), "eth0", "2001:db8::10/64", nil))
		if got := errorText(resp.Diagnostics); !strings.Contains(got, "2001:db8::10 is still held by another machine on eth0 (duplicate address detection failed") {
			t.Errorf("taking an IPv6 address fs1 holds: %q", got)
		}
		if l.holds("fs2", "2001:db8::10") {
			t.Error("fs2 kept the duplicate address")
		}
	})

}

// TestLabCleanup checks that a lab leaves no namespace behind.
func TestLabCleanup(t *testing.T) {
	var names []string
	t.Run("lab", func(t *testing.T) {
		l := newLab(t, "fs1")
		names = append(names, l.netns["fs1"])
	})
	if len(names) == 0 {
		return // the lab was skipped
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	for _, n := range names {
		if strings.Contains(string(out), n) || strings.Contains(string(out), strings.Replace(n, "fs1", "sw", 1)) {
			t.Errorf("the namespace %s is left: %s", n, out)
		}
	}
}
