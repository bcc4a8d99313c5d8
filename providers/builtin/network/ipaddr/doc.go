// Package ipaddr takes and releases IP addresses on the interfaces of one
// network namespace of the local machine, as a takeover needs it done:
// look before taking (an RFC 5227 ARP probe for IPv4, the kernel's
// duplicate address detection for IPv6), then tell the neighbours at once
// (gratuitous ARP, an unsolicited neighbour advertisement), so that their
// caches point at the new holder without waiting for expiry.
//
// Addresses and links are read and changed through netlink sockets opened
// in the namespace; the packet sockets that probe and announce are created
// there too, on a locked OS thread that returns to its own namespace
// before it is released. Nothing here runs an external command.
package ipaddr
