package network

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/drover-dr/drover/providers/builtin/network/ipaddr"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zclconf/go-cty/cty"
)

// agent plays a remote transport with Drover's agent on the machine: each
// op crosses the wire encoding to this process, which runs it as the
// agent would, and its error comes back as text only, as over a
// connection.
type agent struct{ host.Host }

func (a agent) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	resp, err := host.RunOp(ctx, a.Host, name, req)
	if err != nil {
		return nil, errors.New(err.Error())
	}
	return resp, nil
}

// noAgentHost plays a transport that cannot run ops on its machine (an SSH
// host without the agent).
type noAgentHost struct{ host.Host }

var netipEqual = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

// TestAddressOpsThroughAgent runs every address op through the wire
// encoding, on machines played by network namespaces: what the resources
// get back from a remote machine is what they get in this process,
// refusals with their kind and fields included.
func TestAddressOpsThroughAgent(t *testing.T) {
	l := newLab(t, "fs1", "fs2")
	h := agent{host.NewLocal("agent", "")}
	prefix := netip.MustParsePrefix("192.0.2.10/24")
	fs1MAC, _ := net.ParseMAC(l.mac("fs1"))
	for _, step := range []struct {
		name    string
		op      string
		req     addressReq
		want    addressResp
		wantErr string
		after   func(t *testing.T)
	}{
		{"check a free address", opAddressCheck, addressReq{Netns: l.netns["fs2"], Interface: "eth0", Prefix: prefix}, addressResp{}, "", nil},
		{"check a missing interface", opAddressCheck, addressReq{Netns: l.netns["fs2"], Interface: "eth9", Prefix: prefix},
			addressResp{Refusal: refusal{NoInterface: &ipaddr.NoInterfaceError{Name: "eth9", Namespace: l.netns["fs2"], Have: []string{"eth0", "lo"}}}},
			`there is no interface "eth9"`, nil},
		{"check outside the subnets", opAddressCheck, addressReq{Netns: l.netns["fs2"], Interface: "eth0", Prefix: netip.MustParsePrefix("198.51.100.10/24")},
			addressResp{Refusal: refusal{Outside: &ipaddr.OutsideError{Prefix: netip.MustParsePrefix("198.51.100.10/24"), Interface: "eth0",
				Subnets: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}}},
			"198.51.100.10 is outside every subnet of eth0 (192.0.2.0/24)", nil},
		{"add", opAddressAdd, addressReq{Netns: l.netns["fs1"], Interface: "eth0", Prefix: prefix, Announce: true}, addressResp{}, "",
			func(t *testing.T) {
				if !l.holds("fs1", "192.0.2.10") {
					t.Error("fs1 does not hold the address")
				}
			}},
		{"find it", opAddressFind, addressReq{Netns: l.netns["fs1"], Interface: "eth0", Prefix: netip.MustParsePrefix("192.0.2.10/32")},
			addressResp{Held: true, Prefix: prefix}, "", nil},
		{"check it where it is", opAddressCheck, addressReq{Netns: l.netns["fs1"], Interface: "eth0", Prefix: prefix}, addressResp{Held: true}, "", nil},
		{"add where another machine answers", opAddressAdd, addressReq{Netns: l.netns["fs2"], Interface: "eth0", Prefix: prefix, Announce: true},
			addressResp{Refusal: refusal{Held: &ipaddr.HeldError{Addr: prefix.Addr(), Interface: "eth0", MAC: fs1MAC}}},
			"192.0.2.10 is still held by the machine with MAC " + l.mac("fs1"),
			func(t *testing.T) {
				if l.holds("fs2", "192.0.2.10") {
					t.Error("fs2 took the address fs1 holds")
				}
			}},
		{"remove", opAddressRemove, addressReq{Netns: l.netns["fs1"], Interface: "eth0", Prefix: prefix}, addressResp{}, "",
			func(t *testing.T) {
				if l.holds("fs1", "192.0.2.10") {
					t.Error("fs1 still holds the address")
				}
			}},
		{"find it gone", opAddressFind, addressReq{Netns: l.netns["fs1"], Interface: "eth0", Prefix: prefix}, addressResp{}, "", nil},
		{"remove it again", opAddressRemove, addressReq{Netns: l.netns["fs1"], Interface: "eth0", Prefix: prefix}, addressResp{}, "", nil},
		{"a namespace that does not exist", opAddressCheck, addressReq{Netns: l.netns["fs1"] + "-gone", Interface: "eth0", Prefix: prefix},
			addressResp{}, `the network namespace "` + l.netns["fs1"] + `-gone" cannot be opened`, nil},
	} {
		t.Run(step.name, func(t *testing.T) {
			got, err := host.Call[addressReq, addressResp](t.Context(), h, step.op, step.req)
			if err == nil {
				err = got.Refusal.err()
			}
			if step.wantErr == "" && err != nil || step.wantErr != "" && (err == nil || !strings.Contains(err.Error(), step.wantErr)) {
				t.Errorf("err = %v, want %q", err, step.wantErr)
			}
			if diff := cmp.Diff(step.want, got, netipEqual); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if step.after != nil {
				step.after(t)
			}
		})
	}
}

// TestRefusalEncodes: every kind of refusal crosses the wire with its
// fields (the IPv6 one too, which the lab above does not meet).
func TestRefusalEncodes(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:00:00:00:01")
	for name, r := range map[string]refusal{
		"no interface": {NoInterface: &ipaddr.NoInterfaceError{Name: "eth9", Have: []string{"eth0"}}},
		"outside":      {Outside: &ipaddr.OutsideError{Prefix: netip.MustParsePrefix("2001:db8::10/64"), Interface: "eth0"}},
		"held":         {Held: &ipaddr.HeldError{Addr: netip.MustParseAddr("192.0.2.10"), Interface: "eth0", MAC: mac}},
		"duplicate":    {Duplicate: &ipaddr.DuplicateError{Addr: netip.MustParseAddr("2001:db8::10"), Interface: "eth0"}},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(addressResp{Refusal: r}); err != nil {
				t.Fatal(err)
			}
			var got addressResp
			if err := gob.NewDecoder(&buf).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(r, got.Refusal, netipEqual); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			if got.Refusal.err().Error() != r.err().Error() {
				t.Errorf("message %q, want %q", got.Refusal.err(), r.err())
			}
		})
	}
}

// TestAddressNoAgent: an SSH host whose machine cannot run ops (played
// by a transport without them, as an SSH host is without the agent) is
// refused at plan time, at the host's configuration line, saying why;
// nothing is tried on it.
func TestAddressNoAgent(t *testing.T) {
	// Only this package's tests open ssh hosts, and only here.
	host.RegisterTransport("ssh", func(ctx context.Context, c host.Config) (host.Host, error) {
		return noAgentHost{host.NewLocal(c.Name, t.TempDir())}, nil
	})
	remote := host.Config{Name: "fs9", Address: "fs9.example.test"}.Value()
	want := "fs9 is reached without the agent: ip_address needs netlink on the machine"

	t.Run("ip_address", func(t *testing.T) {
		e := newIPEnv(t)
		resp := e.p.Plan(t.Context(), providers.PlanRequest{TypeName: "ip_address", Prior: cty.NullVal(ipType),
			Config: ipConfig(remote, "eth0", "192.0.2.10/24", nil)})
		if got := errorText(resp.Diagnostics); !strings.Contains(got, want) {
			t.Errorf("plan: %q does not say %q", got, want)
		}
		if len(resp.Diagnostics) != 1 || !resp.Diagnostics[0].Path.Equals(cty.GetAttrPath("host")) {
			t.Errorf("diagnostics %#v, want one about host", resp.Diagnostics)
		}
	})

	identity := func(e *resourceEnv, h, release cty.Value) cty.Value {
		return e.config(map[string]cty.Value{"host": h, "release_from": release,
			"address": cty.ListVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"interface": cty.StringVal("eth0"),
				"address": cty.StringVal("192.0.2.10/24"), "force": cty.NullVal(cty.Bool), "announce": cty.NullVal(cty.Bool)})})})
	}
	for _, tc := range []struct {
		name        string
		h, release  cty.Value
		path        cty.Path
		needsTheLab bool
	}{
		{"identity on it", remote, cty.NullVal(host.Type), cty.GetAttrPath("host"), false},
		{"identity released from it", cty.NilVal, remote, cty.GetAttrPath("release_from"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			if tc.needsTheLab {
				h = newLab(t, "fs2").host("fs2")
			}
			e := newResourceEnv(t, "network_identity")
			resp := e.tryPlan(cty.NullVal(e.objectType()), identity(e, h, tc.release))
			if got := errorText(resp.Diagnostics); !strings.Contains(got, want) {
				t.Errorf("plan: %q does not say %q", got, want)
			}
			if len(resp.Diagnostics) != 1 || !resp.Diagnostics[0].Path.Equals(tc.path) {
				t.Errorf("diagnostics %#v, want one about %#v", resp.Diagnostics, tc.path)
			}
		})
	}
}
