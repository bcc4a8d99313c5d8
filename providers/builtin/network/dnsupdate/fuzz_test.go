package dnsupdate

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzAnswered reads arbitrary bytes as a server's answer to a query, as
// a refresh of a dns_record does: an answer that unpacks gives values
// that each write back as a record of the queried type, so what the state
// records from a server can always be planned and updated.
func FuzzAnswered(f *testing.F) {
	for _, typ := range Types {
		s := RRset{Zone: "example.test", Name: "fs1", Type: typ, TTL: 60}
		m := new(dns.Msg)
		m.SetQuestion(s.FQDN(), dns.StringToType[typ])
		m.Authoritative = true
		for _, v := range map[string][]string{"A": {"192.0.2.10"}, "AAAA": {"2001:db8::1"}, "CNAME": {"fs2.example.test"},
			"TXT": {"v=1; a \"quoted\" text"}, "PTR": {"fs1.example.test"}}[typ] {
			rr, err := s.rr(v)
			if err != nil {
				f.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(typ, b)
	}
	f.Fuzz(func(t *testing.T, typ string, b []byte) {
		if _, ok := dns.StringToType[typ]; !ok {
			return
		}
		s := RRset{Zone: "example.test", Name: "fs1", Type: typ}
		if s.Check() != nil {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			return
		}
		got := answered(s, m)
		for _, v := range got.Values {
			if _, err := got.rr(v); err != nil {
				t.Fatalf("the answered value %q of type %s does not write back as a record: %v", v, typ, err)
			}
		}
	})
}
