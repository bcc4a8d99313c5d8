package dnsupdate_test

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers/builtin/network/dnstest"
	"github.com/drover-dr/drover/providers/builtin/network/dnsupdate"
	"github.com/google/go-cmp/cmp"
)

// servers are the real DNS servers every test runs against.
var servers = []struct{ name, exe, pkg string }{
	{"knot", "knotd", "knot"},
	{"bind", "named", "bind9"},
}

func eachServer(t *testing.T, f func(t *testing.T, s *dnstest.Server, kdig string)) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			exe := testenv.Command(t, srv.exe, srv.pkg)
			kdig := testenv.Command(t, "kdig", "knot-dnsutils")
			f(t, dnstest.New(t, exe), kdig)
		})
	}
}

func client(s *dnstest.Server) *dnsupdate.Client {
	key := s.Key
	return &dnsupdate.Client{Server: s.Addr, Key: &key}
}

func dig(t *testing.T, s *dnstest.Server, kdig, name, typ string) []string {
	t.Helper()
	got, err := s.Dig(t.Context(), kdig, name, typ)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

func TestReplaceLifecycle(t *testing.T) {
	eachServer(t, func(t *testing.T, s *dnstest.Server, kdig string) {
		ctx := t.Context()
		c := client(s)
		steps := []struct {
			name     string
			set      *dnsupdate.RRset
			wantDig  []string
			wantName string
			wantType string
		}{
			{"create A", &dnsupdate.RRset{Zone: dnstest.Zone, Name: "app", Type: "A", TTL: 60, Values: []string{"192.0.2.20", "192.0.2.21"}},
				[]string{"192.0.2.20", "192.0.2.21"}, "app", "A"},
			{"update A", &dnsupdate.RRset{Zone: dnstest.Zone, Name: "app", Type: "A", TTL: 120, Values: []string{"192.0.2.30"}},
				[]string{"192.0.2.30"}, "app", "A"},
			{"delete A", nil, nil, "app", "A"},
		}
		var prior *dnsupdate.RRset
		for _, step := range steps {
			if err := c.Replace(ctx, prior, step.set); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if diff := cmp.Diff(step.wantDig, dig(t, s, kdig, step.wantName, step.wantType)); diff != "" {
				t.Errorf("%s: kdig sees (-want +got):\n%s", step.name, diff)
			}
			q := dnsupdate.RRset{Zone: dnstest.Zone, Name: step.wantName, Type: step.wantType}
			got, found, err := c.Query(ctx, q)
			if err != nil {
				t.Fatalf("%s: query: %v", step.name, err)
			}
			if found != (step.set != nil) || (found && (!q.SameValues(got.Values, step.set.Values) || got.TTL != step.set.TTL)) {
				t.Errorf("%s: query found %v %+v", step.name, found, got)
			}
			prior = step.set
		}
	})
}

func TestRecordTypes(t *testing.T) {
	eachServer(t, func(t *testing.T, s *dnstest.Server, kdig string) {
		for _, tc := range []struct {
			set  dnsupdate.RRset
			want []string
		}{
			{dnsupdate.RRset{Name: "v6", Type: "AAAA", Values: []string{"2001:DB8::10"}}, []string{"2001:db8::10"}},
			{dnsupdate.RRset{Name: "www", Type: "CNAME", Values: []string{"fs1.example.test"}}, []string{"fs1.example.test."}},
			{dnsupdate.RRset{Name: "_info", Type: "TXT", Values: []string{"standby is fs2"}}, []string{`"standby is fs2"`}},
			{dnsupdate.RRset{Name: "10.2.0.192.in-addr.arpa.example.test.", Type: "PTR", Values: []string{"fs1.example.test."}}, []string{"fs1.example.test."}},
		} {
			t.Run(tc.set.Type, func(t *testing.T) {
				set := tc.set
				set.Zone, set.TTL = dnstest.Zone, 60
				c := client(s)
				if err := c.Replace(t.Context(), nil, &set); err != nil {
					t.Fatal(err)
				}
				name := strings.TrimSuffix(strings.TrimSuffix(set.FQDN(), "."), "."+dnstest.Zone)
				if diff := cmp.Diff(tc.want, dig(t, s, kdig, name, set.Type)); diff != "" {
					t.Errorf("kdig sees (-want +got):\n%s", diff)
				}
				got, found, err := c.Query(t.Context(), set)
				if err != nil || !found || !set.SameValues(got.Values, set.Values) {
					t.Errorf("query: %v %v %+v", err, found, got)
				}
			})
		}
	})
}

func TestReplaceRefusesAChangedRecord(t *testing.T) {
	eachServer(t, func(t *testing.T, s *dnstest.Server, kdig string) {
		ctx := t.Context()
		c := client(s)
		seen := &dnsupdate.RRset{Zone: dnstest.Zone, Name: "fs1", Type: "A", TTL: 300, Values: []string{"192.0.2.10"}}
		next := &dnsupdate.RRset{Zone: dnstest.Zone, Name: "fs1", Type: "A", TTL: 60, Values: []string{"192.0.2.20"}}
		if err := s.Set(ctx, "fs1", "A", 300, "192.0.2.99"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name        string
			prior, next *dnsupdate.RRset
		}{
			{"update", seen, next},
			{"delete", seen, nil},
			{"create over an existing record", nil, next},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := c.Replace(ctx, tc.prior, tc.next)
				if !errors.Is(err, dnsupdate.ErrChanged) || !strings.Contains(err.Error(), "changed since the plan: run plan again") {
					t.Fatalf("got %v, want ErrChanged", err)
				}
				if diff := cmp.Diff([]string{"192.0.2.99"}, dig(t, s, kdig, "fs1", "A")); diff != "" {
					t.Errorf("the record was changed all the same (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestServerErrors(t *testing.T) {
	eachServer(t, func(t *testing.T, s *dnstest.Server, kdig string) {
		set := &dnsupdate.RRset{Zone: dnstest.Zone, Name: "app", Type: "A", TTL: 60, Values: []string{"192.0.2.20"}}
		otherZone := *set
		otherZone.Zone = "other.test"
		wrongSecret := s.Key
		wrongSecret.Secret = "c2VjcmV0LW5vdC1pbi10aGUtc2VydmVy"
		unknownKey := s.Key
		unknownKey.Name = "nobody"
		for _, tc := range []struct {
			name string
			key  dnsupdate.Key
			set  *dnsupdate.RRset
			want []string
		}{
			{"wrong secret", wrongSecret, set, []string{"BADSIG", `key "drover-test"`, "secret"}},
			{"unknown key", unknownKey, set, []string{"BADKEY", `key "nobody"`}},
			{"zone not served", s.Key, &otherZone, []string{"NOTAUTH", "not authoritative for the zone other.test"}},
			// Knot answers NOTAUTH to an update its ACL denies, BIND REFUSED.
			{"unsigned", dnsupdate.Key{}, set, []string{"update policy or ACL does not allow this change", "unsigned updates (set tsig"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := &dnsupdate.Client{Server: s.Addr, Key: &tc.key}
				if tc.key.Name == "" {
					c.Key = nil
				}
				err := c.Replace(t.Context(), nil, tc.set)
				var rerr *dnsupdate.RcodeError
				if !errors.As(err, &rerr) {
					t.Fatalf("got %v, want an RcodeError", err)
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("the error %q does not say %q", err, w)
					}
				}
				if got := dig(t, s, kdig, "app", "A"); len(got) != 0 {
					t.Errorf("the record exists all the same: %v", got)
				}
			})
		}
	})
}

func TestNoAnswer(t *testing.T) {
	// A listener that accepts and never answers, and a port nothing
	// listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	set := dnsupdate.RRset{Zone: dnstest.Zone, Name: "app", Type: "A"}
	for _, tc := range []struct{ name, addr, want string }{
		{"silent", l.Addr().String(), "no answer from " + l.Addr().String() + " within 200ms"},
		{"refused", closedAddr, "nothing listens at " + closedAddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &dnsupdate.Client{Server: tc.addr, Timeout: 200 * time.Millisecond}
			_, _, err := c.Query(t.Context(), set)
			var nerr *dnsupdate.NoAnswerError
			if !errors.As(err, &nerr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
