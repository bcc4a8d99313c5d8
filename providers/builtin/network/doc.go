// Package network is the built-in provider "network": what makes a standby
// answer for a failed server on the network.
//
//   - dns_record: an RRset on an authoritative DNS server, changed by
//     RFC 2136 dynamic update signed with TSIG and read back by query
//     (dnsupdate does the protocol). A change is conditional on the record
//     holding what the plan saw, so an apply never clobbers a change made
//     since by someone else.
//   - ip_address: an address on an interface of a local host, in the
//     network namespace its host block names (ipaddr does the work):
//     probed before it is taken, announced once taken.
//
// DNS servers are reached from the machine the provider runs on; remote
// hosts are refused until the SSH transport is wired in. Host names,
// shares and the network_identity that groups them come later.
package network
