// Package dnsupdate changes one RRset on an authoritative DNS server by
// RFC 2136 dynamic update, signed with TSIG (RFC 8945), and reads it back
// by query.
//
// Every change carries prerequisites that make it conditional on what the
// caller last saw: a create requires that the RRset does not exist, an
// update or a delete that it still holds exactly the values seen. A server
// that finds otherwise changes nothing, and the change fails with
// ErrChanged: somebody else changed the record since, and the caller must
// look again before deciding. That is what keeps a plan made a minute ago
// from clobbering an operator's fix made since.
//
// Failures the server reports are values (RcodeError) naming the response
// code, the TSIG error where there is one, and what to check; a server that
// does not answer is named by its address.
package dnsupdate
