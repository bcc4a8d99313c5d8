package dnsupdate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Types are the record types an RRset may have.
var Types = []string{"A", "AAAA", "CNAME", "TXT", "PTR"}

// RRset is the records of one name and type in a zone.
type RRset struct {
	// Zone is the zone's name, e.g. "example.test" (a final dot is optional).
	Zone string
	// Name is the owner name relative to Zone ("fs1"), "@" for the zone
	// itself, or an absolute name ending in a dot inside Zone.
	Name string
	// Type is one of Types.
	Type string
	TTL  uint32
	// Values are the records' data: an address for A and AAAA, a domain
	// name for CNAME and PTR (always absolute, a final dot optional), the
	// text itself for TXT (no quoting). Their order carries no meaning.
	Values []string
}

// FQDN is the owner name, absolute, with its final dot.
func (s RRset) FQDN() string {
	zone := dns.Fqdn(strings.ToLower(s.Zone))
	switch {
	case s.Name == "@":
		return zone
	case strings.HasSuffix(s.Name, "."):
		return strings.ToLower(s.Name)
	default:
		return strings.ToLower(s.Name) + "." + zone
	}
}

// Check says what is wrong with s, or nil.
func (s RRset) Check() error {
	zone := dns.Fqdn(s.Zone)
	if _, ok := dns.IsDomainName(zone); !ok || s.Zone == "" {
		return fmt.Errorf("the zone %q is not a domain name", s.Zone)
	}
	if s.Name == "" {
		return fmt.Errorf("the name is empty: give a name relative to the zone (\"fs1\"), or \"@\" for the zone itself")
	}
	fqdn := s.FQDN()
	if _, ok := dns.IsDomainName(fqdn); !ok {
		return fmt.Errorf("the name %q is not a domain name", s.Name)
	}
	if !dns.IsSubDomain(dns.Fqdn(strings.ToLower(s.Zone)), fqdn) {
		return fmt.Errorf("the name %s is outside the zone %s: give it relative to the zone, e.g. %q", fqdn, zone, strings.Split(fqdn, ".")[0])
	}
	if !slices.Contains(Types, s.Type) {
		return fmt.Errorf("the type %q is not one of %s", s.Type, strings.Join(Types, ", "))
	}
	if len(s.Values) == 0 {
		return fmt.Errorf("a record needs at least one value")
	}
	if s.Type == "CNAME" && len(s.Values) > 1 {
		return fmt.Errorf("a CNAME has exactly one value, not %d", len(s.Values))
	}
	for _, v := range s.Values {
		if _, err := s.rdata(v); err != nil {
			return err
		}
	}
	return nil
}

// rr is the record of value v in s.
func (s RRset) rr(v string) (dns.RR, error) {
	rr, err := s.rdata(v)
	if err != nil {
		return nil, err
	}
	*rr.Header() = dns.RR_Header{Name: s.FQDN(), Rrtype: dns.StringToType[s.Type], Class: dns.ClassINET, Ttl: s.TTL}
	return rr, nil
}

func (s RRset) rdata(v string) (dns.RR, error) {
	switch s.Type {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(v)
		if err != nil || ip.Zone() != "" || (s.Type == "A") != ip.Is4() {
			return nil, fmt.Errorf("the value %q is not an IPv%s address", v, map[string]string{"A": "4", "AAAA": "6"}[s.Type])
		}
		if s.Type == "A" {
			return &dns.A{A: ip.AsSlice()}, nil
		}
		return &dns.AAAA{AAAA: ip.AsSlice()}, nil
	case "CNAME", "PTR":
		if _, ok := dns.IsDomainName(v); !ok || v == "" {
			return nil, fmt.Errorf("the value %q is not a domain name", v)
		}
		if s.Type == "CNAME" {
			return &dns.CNAME{Target: dns.Fqdn(v)}, nil
		}
		return &dns.PTR{Ptr: dns.Fqdn(v)}, nil
	case "TXT":
		// A character-string holds at most 255 bytes; longer text is
		// split, as zone files split it, and joined again when read.
		var parts []string
		for len(v) > 255 {
			parts, v = append(parts, v[:255]), v[255:]
		}
		return &dns.TXT{Txt: append(parts, v)}, nil
	}
	return nil, fmt.Errorf("the type %q is not one of %s", s.Type, strings.Join(Types, ", "))
}

// records are the records of s, one per value.
func (s RRset) records() ([]dns.RR, error) {
	out := make([]dns.RR, 0, len(s.Values))
	for _, v := range s.Values {
		rr, err := s.rr(v)
		if err != nil {
			return nil, err
		}
		out = append(out, rr)
	}
	return out, nil
}

// value is the value of a record as RRset.Values gives it.
func value(rr dns.RR) string {
	switch rr := rr.(type) {
	case *dns.A:
		return rr.A.String()
	case *dns.AAAA:
		return rr.AAAA.String()
	case *dns.CNAME:
		return strings.TrimSuffix(rr.Target, ".")
	case *dns.PTR:
		return strings.TrimSuffix(rr.Ptr, ".")
	case *dns.TXT:
		return strings.Join(rr.Txt, "")
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// SameValues says whether a and b hold the same records of s's type,
// whatever their order and spelling ("2001:DB8::1" and "2001:db8::1",
// "fs2.example.test" and "fs2.example.test.").
func (s RRset) SameValues(a, b []string) bool {
	canon := func(vs []string) ([]string, bool) {
		out := make([]string, 0, len(vs))
		for _, v := range vs {
			rr, err := s.rr(v)
			if err != nil {
				return nil, false
			}
			v := value(rr)
			if s.Type == "CNAME" || s.Type == "PTR" {
				v = strings.ToLower(v) // names compare without case; text does not
			}
			out = append(out, v)
		}
		slices.Sort(out)
		return slices.Compact(out), true
	}
	ca, okA := canon(a)
	cb, okB := canon(b)
	return okA && okB && slices.Equal(ca, cb)
}
