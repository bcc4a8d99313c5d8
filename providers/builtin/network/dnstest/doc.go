// Package dnstest starts real authoritative DNS servers for tests: knotd
// (Knot DNS) or named (BIND 9) on a 127.0.0.1 high port, serving one zone
// from a zone file in a folder of the test's and taking RFC 2136 updates
// signed with a TSIG key of its own.
//
// Tests find the server's executable themselves (internal/testenv decides
// whether a missing one skips or fails), so this package stays usable from
// testscript commands, which have no testing.TB.
package dnstest
