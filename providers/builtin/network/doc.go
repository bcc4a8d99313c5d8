// Package network is the built-in provider "network": what makes a standby
// answer for a failed server on the network.
//
//   - dns_record: an RRset on an authoritative DNS server, changed by
//     RFC 2136 dynamic update signed with TSIG and read back by query
//     (dnsupdate does the protocol). A change is conditional on the record
//     holding what the plan saw, so an apply never clobbers a change made
//     since by someone else.
//   - ip_address: an address on an interface of a host (in the network
//     namespace a local host's block names): probed before it is taken,
//     announced once taken. ipaddr does the work, on the host's machine:
//     the address ops (address_ops.go) are host ops, run in this process
//     for a local host and by the agent of a remote one.
//   - share: an SMB share, a section in a Samba configuration file of
//     Drover's own (sambaconf owns those files and the reload), or with
//     protocol = "nfs" an NFSv4 export of NFS-Ganesha, an EXPORT block in
//     a file of Drover's own (nfsconf owns those files and the proved
//     reload).
//   - host_name: the system host name (the one replaced is given back on
//     destroy) and Samba's NetBIOS aliases, in sambaconf's files too.
//   - network_identity: the four as one object. It owns only the order of
//     a takeover and of its release, and builds the parts' values: every
//     part is planned, taken, read and given back by its own resource
//     type's functions, never a second implementation.
//
// DNS servers are reached from the machine the provider runs on (a DNS
// server is a service of the network, not a host). Host names and shares
// act through plain host operations (files, commands), so they work on
// any host; addresses need the host ops, and a host whose machine cannot
// run them is refused at plan time.
package network
