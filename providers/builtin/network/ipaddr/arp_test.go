package ipaddr

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestARPRoundTrip(t *testing.T) {
	mac, _ := net.ParseMAC("02:00:00:00:00:01")
	other, _ := net.ParseMAC("02:00:00:00:00:02")
	ip := netip.MustParseAddr("192.0.2.10")
	zero := make(net.HardwareAddr, 6)
	for _, tc := range []struct {
		name     string
		p        arpPacket
		conflict bool
	}{
		{"our own probe", arpPacket{Op: arpRequest, SenderMAC: mac, SenderIP: netip.IPv4Unspecified(), TargetMAC: zero, TargetIP: ip}, false},
		{"an answer from the holder", arpPacket{Op: arpReply, SenderMAC: other, SenderIP: ip, TargetMAC: mac, TargetIP: netip.IPv4Unspecified()}, true},
		{"another machine's probe for it", arpPacket{Op: arpRequest, SenderMAC: other, SenderIP: netip.IPv4Unspecified(), TargetMAC: zero, TargetIP: ip}, true},
		{"another machine's announcement", arpPacket{Op: arpRequest, SenderMAC: other, SenderIP: ip, TargetMAC: zero, TargetIP: ip}, true},
		{"a question about another address", arpPacket{Op: arpRequest, SenderMAC: other, SenderIP: netip.MustParseAddr("192.0.2.3"), TargetMAC: zero, TargetIP: netip.MustParseAddr("192.0.2.4")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseARP(tc.p.marshal())
			if !ok {
				t.Fatal("parseARP refused a packet marshal made")
			}
			if diff := cmp.Diff(tc.p, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			if c := got.conflict(ip, mac); c != tc.conflict {
				t.Errorf("conflict = %v, want %v", c, tc.conflict)
			}
		})
	}
	if _, ok := parseARP(make([]byte, arpLen-1)); ok {
		t.Error("parseARP took a short packet")
	}
}

func FuzzParseARP(f *testing.F) {
	mac, _ := net.ParseMAC("02:00:00:00:00:01")
	f.Add(arpPacket{Op: arpReply, SenderMAC: mac, SenderIP: netip.MustParseAddr("192.0.2.10"), TargetMAC: mac, TargetIP: netip.MustParseAddr("192.0.2.1")}.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := parseARP(b)
		if !ok {
			return
		}
		again, ok := parseARP(p.marshal())
		if !ok || again.Op != p.Op || again.SenderIP != p.SenderIP || again.TargetIP != p.TargetIP {
			t.Errorf("%x: parse, marshal, parse gave %+v, then %+v", b, p, again)
		}
	})
}
