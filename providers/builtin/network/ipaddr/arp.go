package ipaddr

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// ARP operations.
const (
	arpRequest = 1
	arpReply   = 2
)

// arpPacket is an ARP packet for IPv4 over Ethernet (RFC 826), without the
// Ethernet header: packet sockets of type SOCK_DGRAM add and strip it.
type arpPacket struct {
	Op                   uint16
	SenderMAC, TargetMAC net.HardwareAddr
	SenderIP, TargetIP   netip.Addr
}

const arpLen = 28

func (p arpPacket) marshal() []byte {
	b := make([]byte, arpLen)
	binary.BigEndian.PutUint16(b[0:], 1)      // hardware: Ethernet
	binary.BigEndian.PutUint16(b[2:], 0x0800) // protocol: IPv4
	b[4], b[5] = 6, 4
	binary.BigEndian.PutUint16(b[6:], p.Op)
	copy(b[8:14], p.SenderMAC)
	ip4 := func(a netip.Addr) []byte {
		if !a.Is4() {
			return make([]byte, 4)
		}
		s := a.As4()
		return s[:]
	}
	copy(b[14:18], ip4(p.SenderIP))
	copy(b[18:24], p.TargetMAC)
	copy(b[24:28], ip4(p.TargetIP))
	return b
}

// parseARP reads an IPv4-over-Ethernet ARP packet; ok is false for
// anything else.
func parseARP(b []byte) (p arpPacket, ok bool) {
	if len(b) < arpLen || binary.BigEndian.Uint16(b[0:]) != 1 || binary.BigEndian.Uint16(b[2:]) != 0x0800 || b[4] != 6 || b[5] != 4 {
		return p, false
	}
	p.Op = binary.BigEndian.Uint16(b[6:])
	p.SenderMAC = net.HardwareAddr(append([]byte(nil), b[8:14]...))
	p.SenderIP = netip.AddrFrom4([4]byte(b[14:18]))
	p.TargetMAC = net.HardwareAddr(append([]byte(nil), b[18:24]...))
	p.TargetIP = netip.AddrFrom4([4]byte(b[24:28]))
	return p, true
}

// conflict says whether p, seen while probing for ip from mac, shows that
// another machine holds or claims ip: it answers for ip, announces it, or
// probes for it itself (RFC 5227 2.1.1).
func (p arpPacket) conflict(ip netip.Addr, mac net.HardwareAddr) bool {
	if p.SenderMAC.String() == mac.String() {
		return false
	}
	if p.SenderIP == ip {
		return true
	}
	return p.Op == arpRequest && p.SenderIP == netip.IPv4Unspecified() && p.TargetIP == ip
}

// neighbourAdvert is an unsolicited ICMPv6 neighbour advertisement
// (RFC 4861 4.4) for target, with the override flag set and mac as the
// target link-layer address; the kernel fills in the checksum.
func neighbourAdvert(target netip.Addr, mac net.HardwareAddr) []byte {
	b := make([]byte, 24, 32)
	b[0] = 136  // type: neighbour advertisement
	b[4] = 0x20 // flags: override
	t := target.As16()
	copy(b[8:24], t[:])
	b = append(b, 2, 1) // option: target link-layer address, 8 bytes
	return append(b, mac...)
}
