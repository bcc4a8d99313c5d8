package dnsupdate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// Key is a TSIG key as the server's configuration names it.
type Key struct {
	// Name is the key's name, e.g. "drover" (a final dot is optional).
	Name string
	// Algorithm is e.g. "hmac-sha256" (see Algorithms).
	Algorithm string
	// Secret is the key's secret, base64-encoded as tsig-keygen and
	// keymgr print it.
	Secret string
}

// Algorithms are the TSIG algorithms a Key may name.
var Algorithms = []string{"hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"}

// Client talks to one server.
type Client struct {
	// Server is "host:port".
	Server string
	// Key signs every message; none when nil.
	Key *Key
	// Timeout bounds each exchange; 5 seconds when zero.
	Timeout time.Duration
}

// ErrChanged is the failure of a prerequisite: the RRset is not what the
// change was planned against. Replace wraps it with the RRset's name and
// type.
var ErrChanged = errors.New("changed since the plan: run plan again to see it as it is now")

// RcodeError is a response code other than success (or a TSIG error) from
// the server, for an operation on an RRset; Rcode success stands for an
// answer to a query without the authoritative flag.
type RcodeError struct {
	Op     string // "update" or "query"
	Server string
	FQDN   string
	Zone   string
	Key    string // the key name, "" when unsigned
	Rcode  int
	// TSIGError is the error the server put in its TSIG record (BADSIG,
	// BADKEY, BADTIME), 0 when none.
	TSIGError int
	// Serves says the server answers authoritatively for Zone: a NOTAUTH
	// from it then means it denied the update (Knot DNS answers so when
	// its ACL does not match), not that the zone is wrong.
	Serves bool
}

func (e *RcodeError) Error() string {
	code := dns.RcodeToString[e.Rcode]
	if e.Rcode == dns.RcodeSuccess {
		code = "an answer without authority"
	}
	if e.TSIGError != 0 {
		code = dns.RcodeToString[e.TSIGError]
	}
	if code == "" {
		code = fmt.Sprintf("rcode %d", e.Rcode)
	}
	return fmt.Sprintf("the server %s answered the %s of %s with %s: %s", e.Server, e.Op, e.FQDN, code, e.hint())
}

// hint says what to check for e's code.
func (e *RcodeError) hint() string {
	switch {
	case e.TSIGError == dns.RcodeBadSig:
		return fmt.Sprintf("the signature did not verify: check that the key %q has the same secret and algorithm as in the server's configuration", e.Key)
	case e.TSIGError == dns.RcodeBadKey:
		return fmt.Sprintf("the server does not know the key %q with that algorithm: check the key's name and algorithm against the server's configuration", e.Key)
	case e.TSIGError == dns.RcodeBadTime:
		return "the signature's time is too far from the server's clock: check both clocks"
	}
	who := fmt.Sprintf("the key %q", e.Key)
	if e.Key == "" {
		who = "unsigned updates (set tsig to sign them)"
	}
	denied := fmt.Sprintf("its update policy or ACL does not allow this change: check the zone %s's allow-update / update-policy (BIND) or its acl with action update (Knot) for %s", e.Zone, who)
	switch e.Rcode {
	case dns.RcodeRefused:
		if e.Op == "query" {
			return fmt.Sprintf("it does not serve the zone %s, or refuses this machine's queries: check the zone name and that the server is its primary", e.Zone)
		}
		return denied
	case dns.RcodeNotAuth, dns.RcodeSuccess:
		if e.Serves {
			return denied
		}
		return fmt.Sprintf("it is not authoritative for the zone %s: check the zone name and that the server is its primary", e.Zone)
	case dns.RcodeNotZone:
		return fmt.Sprintf("the name is not within the zone %s: check the zone and the name", e.Zone)
	case dns.RcodeServerFailure:
		return "the server failed to make the change (a zone it cannot write, a broken zone): see its log"
	case dns.RcodeNotImplemented:
		return "the server does not take dynamic updates (RFC 2136)"
	case dns.RcodeFormatError:
		return "the server could not parse the message: see its log"
	}
	return "see the server's log"
}

// NoAnswerError is a server that did not answer: nothing listens at the
// address, or nothing answered within the timeout.
type NoAnswerError struct {
	Server  string
	Timeout time.Duration
	Err     error
}

func (e *NoAnswerError) Error() string {
	if errors.Is(e.Err, syscall.ECONNREFUSED) {
		return fmt.Sprintf("nothing listens at %s (connection refused): check the server's address and port and that it is running", e.Server)
	}
	var ne net.Error
	if errors.As(e.Err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no answer from %s within %s: check the server's address and port, that it is running, and any firewall between", e.Server, e.Timeout)
	}
	return fmt.Sprintf("no answer from %s: %v", e.Server, e.Err)
}

func (e *NoAnswerError) Unwrap() error { return e.Err }

func (c *Client) timeout() time.Duration {
	if c.Timeout == 0 {
		return 5 * time.Second
	}
	return c.Timeout
}

// exchange sends m and returns the answer, or an error naming what went
// wrong: a server that does not answer, a response code or TSIG error.
func (c *Client) exchange(ctx context.Context, op string, s RRset, m *dns.Msg) (*dns.Msg, error) {
	// TCP: a signed update is never truncated, and a port nothing listens
	// on is refused at once rather than timing out.
	dc := &dns.Client{Net: "tcp", Timeout: c.timeout()}
	keyName := ""
	if c.Key != nil {
		keyName = c.Key.Name
		name := dns.Fqdn(strings.ToLower(c.Key.Name))
		dc.TsigSecret = map[string]string{name: c.Key.Secret}
		m.SetTsig(name, dns.Fqdn(strings.ToLower(c.Key.Algorithm)), 300, time.Now().Unix())
	}
	r, _, err := dc.ExchangeContext(ctx, m, c.Server)
	if r == nil || (err != nil && r.Rcode == dns.RcodeSuccess && r.IsTsig() == nil) {
		if err == nil {
			err = errors.New("no message")
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, &NoAnswerError{Server: c.Server, Timeout: c.timeout(), Err: err}
		}
		return nil, fmt.Errorf("the %s of %s at %s: %w", op, s.FQDN(), c.Server, err)
	}
	rerr := &RcodeError{Op: op, Server: c.Server, FQDN: strings.TrimSuffix(s.FQDN(), "."),
		Zone: strings.TrimSuffix(dns.Fqdn(s.Zone), "."), Key: keyName, Rcode: r.Rcode}
	if t := r.IsTsig(); t != nil && t.Error != 0 {
		rerr.TSIGError = int(t.Error)
		return nil, rerr
	}
	if r.Rcode != dns.RcodeSuccess && (op != "query" || r.Rcode != dns.RcodeNameError) {
		if r.Rcode == dns.RcodeNXRrset || r.Rcode == dns.RcodeYXRrset || r.Rcode == dns.RcodeYXDomain {
			return nil, ErrChanged
		}
		return nil, rerr
	}
	if err != nil {
		// The answer's own signature did not verify: not the server we
		// share the key with, or a mangled message.
		return nil, fmt.Errorf("the answer of %s to the %s of %s failed its TSIG check: %w", c.Server, op, s.FQDN(), err)
	}
	return r, nil
}

// Query reads s's RRset (s.Values and s.TTL are ignored) from the server,
// which must be authoritative for the zone. found is false when the RRset
// does not exist.
func (c *Client) Query(ctx context.Context, s RRset) (got RRset, found bool, err error) {
	m := new(dns.Msg)
	m.SetQuestion(s.FQDN(), dns.StringToType[s.Type])
	m.RecursionDesired = false
	r, err := c.exchange(ctx, "query", s, m)
	if err != nil {
		return s, false, err
	}
	if !r.Authoritative {
		return s, false, &RcodeError{Op: "query", Server: c.Server, FQDN: strings.TrimSuffix(s.FQDN(), "."),
			Zone: strings.TrimSuffix(dns.Fqdn(s.Zone), "."), Rcode: dns.RcodeSuccess}
	}
	got = answered(s, r)
	return got, len(got.Values) > 0, nil
}

// answered is s as the answer r holds it: the TTL and values of the
// records of s's name and type, the others (a CNAME chain's) left out.
func answered(s RRset, r *dns.Msg) RRset {
	got := s
	got.Values = nil
	for _, rr := range r.Answer {
		h := rr.Header()
		if h.Rrtype != dns.StringToType[s.Type] || !strings.EqualFold(h.Name, s.FQDN()) {
			continue
		}
		got.TTL = h.Ttl
		got.Values = append(got.Values, value(rr))
	}
	return got
}

// Replace makes the RRset prior (nil: none) into next (nil: none) by one
// update, conditional on the server holding exactly prior: ErrChanged
// when it does not. Both name the same RRset.
func (c *Client) Replace(ctx context.Context, prior, next *RRset) error {
	s := next
	if s == nil {
		s = prior
	}
	if s == nil {
		return nil
	}
	m := new(dns.Msg)
	m.SetUpdate(dns.Fqdn(s.Zone))
	if prior == nil {
		m.RRsetNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: s.FQDN(), Rrtype: dns.StringToType[s.Type]}}})
	} else {
		rrs, err := prior.records()
		if err != nil {
			return err
		}
		m.Used(rrs)
		m.RemoveRRset([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: s.FQDN(), Rrtype: dns.StringToType[s.Type]}}})
	}
	if next != nil {
		rrs, err := next.records()
		if err != nil {
			return err
		}
		m.Insert(rrs)
	}
	_, err := c.exchange(ctx, "update", *s, m)
	var rerr *RcodeError
	if errors.As(err, &rerr) && rerr.Rcode == dns.RcodeNotAuth && rerr.TSIGError == 0 {
		rerr.Serves = c.serves(ctx, *s)
	}
	if errors.Is(err, ErrChanged) {
		return fmt.Errorf("%s %s %w", strings.TrimSuffix(s.FQDN(), "."), s.Type, err)
	}
	return err
}

// serves says whether the server answers authoritatively for s's zone.
func (c *Client) serves(ctx context.Context, s RRset) bool {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(s.Zone), dns.TypeSOA)
	m.RecursionDesired = false
	r, err := c.exchange(ctx, "query", s, m)
	return err == nil && r.Authoritative && len(r.Answer) > 0
}
