package dnstest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/daemontest"
	"github.com/drover-dr/drover/providers/builtin/network/dnsupdate"
	"github.com/miekg/dns"
)

// Zone is the zone every server serves. It holds fs1 A 192.0.2.10 and
// files CNAME fs1 besides its SOA and NS records.
const Zone = "example.test"

const zoneFile = `$ORIGIN example.test.
$TTL 300
@     SOA ns1 hostmaster 1 3600 600 86400 300
@     NS  ns1
ns1   A   127.0.0.1
fs1   A   192.0.2.10
files CNAME fs1
`

// Server is a running DNS server.
type Server struct {
	// Addr is "127.0.0.1:PORT", for TCP and UDP.
	Addr string
	// Key is the TSIG key the server takes updates of Zone with.
	Key dnsupdate.Key
	// Dir holds its configuration, zone file and run files.
	Dir string

	proc *daemontest.Process
}

// Start starts exe (a path of knotd or named; which one its base name
// says) with its files in dir, made if missing, and waits until it answers
// for Zone.
func Start(ctx context.Context, exe, dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	key := dnsupdate.Key{Name: "drover-test", Algorithm: "hmac-sha256", Secret: base64.StdEncoding.EncodeToString(secret)}
	return daemontest.OnFreePort(freePort, func(port int) (*Server, error) {
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Key: key, Dir: dir}
		return s, s.start(ctx, exe, port)
	})
}

// New starts exe for t in a temporary folder and stops it when t ends.
func New(t testing.TB, exe string) *Server {
	t.Helper()
	s, err := Start(t.Context(), exe, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// freePort is a port free for TCP and UDP on 127.0.0.1 right now.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no port free for both TCP and UDP on 127.0.0.1")
}

func (s *Server) start(ctx context.Context, exe string, port int) error {
	if err := os.WriteFile(filepath.Join(s.Dir, Zone+".zone"), []byte(zoneFile), 0o644); err != nil {
		return err
	}
	var conf string
	var args []string
	switch filepath.Base(exe) {
	case "knotd":
		conf = s.knotConfig(port)
		args = []string{"-c", filepath.Join(s.Dir, "server.conf")}
	case "named":
		conf = s.namedConfig(port)
		args = []string{"-g", "-4", "-n", "1", "-c", filepath.Join(s.Dir, "server.conf")}
	default:
		return fmt.Errorf("dnstest starts knotd or named, not %s", exe)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "server.conf"), []byte(conf), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = s.Dir
	proc, err := daemontest.Start(ctx, cmd, 20*time.Second, s.answers)
	if err != nil {
		return err
	}
	s.proc = proc
	return nil
}

func (s *Server) knotConfig(port int) string {
	return fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: 127.0.0.1@%[2]d
    pidfile: "%[1]s/knot.pid"
control:
    listen: "%[1]s/knot.sock"
log:
  - target: stderr
    any: info
database:
    storage: "%[1]s"
key:
  - id: %[3]s
    algorithm: %[4]s
    secret: %[5]s
acl:
  - id: update
    key: %[3]s
    action: update
template:
  - id: default
    storage: "%[1]s"
    zonefile-sync: -1
    journal-content: changes
zone:
  - domain: %[6]s
    file: "%[1]s/%[6]s.zone"
    acl: update
`, s.Dir, port, s.Key.Name, s.Key.Algorithm, s.Key.Secret, Zone)
}

func (s *Server) namedConfig(port int) string {
	return fmt.Sprintf(`options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	session-keyfile "%[1]s/session.key";
	managed-keys-directory "%[1]s";
	listen-on port %[2]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
};
controls { };
key "%[3]s" {
	algorithm %[4]s;
	secret "%[5]s";
};
zone "%[6]s" {
	type primary;
	file "%[1]s/%[6]s.zone";
	allow-update { key "%[3]s"; };
};
`, s.Dir, port, s.Key.Name, s.Key.Algorithm, s.Key.Secret, Zone)
}

// answers is ready when the server answers authoritatively for Zone.
func (s *Server) answers(ctx context.Context) error {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(Zone), dns.TypeSOA)
	c := &dns.Client{Net: "tcp", Timeout: time.Second}
	r, _, err := c.ExchangeContext(ctx, m, s.Addr)
	switch {
	case err != nil:
		return err
	case r.Rcode != dns.RcodeSuccess || !r.Authoritative:
		return fmt.Errorf("%s answers %s (authoritative: %t) for %s", s.Addr, dns.RcodeToString[r.Rcode], r.Authoritative, Zone)
	}
	return nil
}

// Stop ends the server by its pid and waits for it.
func (s *Server) Stop() { s.proc.Stop() }

// Set changes the RRset of name (relative to Zone) and type to values
// with nsupdate-like directness: unconditionally, signed with the
// server's key. Tests use it to change a record behind Drover's back.
func (s *Server) Set(ctx context.Context, name, typ string, ttl uint32, values ...string) error {
	rrs := make([]dns.RR, 0, len(values))
	for _, v := range values {
		rr, err := dns.NewRR(fmt.Sprintf("%s.%s. %d IN %s %s", name, Zone, ttl, typ, v))
		if err != nil {
			return err
		}
		rrs = append(rrs, rr)
	}
	m := new(dns.Msg)
	m.SetUpdate(dns.Fqdn(Zone))
	m.RemoveRRset([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: name + "." + Zone + ".", Rrtype: dns.StringToType[typ]}}})
	m.Insert(rrs)
	keyName := dns.Fqdn(s.Key.Name)
	m.SetTsig(keyName, dns.Fqdn(s.Key.Algorithm), 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second, TsigSecret: map[string]string{keyName: s.Key.Secret}}
	r, _, err := c.ExchangeContext(ctx, m, s.Addr)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("update of %s %s: %s", name, typ, dns.RcodeToString[r.Rcode])
	}
	return nil
}

// Dig asks the server for name's records of typ with kdig, an
// independent client, and returns their data as kdig prints them (+short),
// one a line.
func (s *Server) Dig(ctx context.Context, kdig, name, typ string) ([]string, error) {
	host, port, _ := net.SplitHostPort(s.Addr)
	out, err := exec.CommandContext(ctx, kdig, "@"+host, "-p", port, "+tcp", "+short", "+norecurse", name+"."+Zone, typ).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("kdig: %v: %s", err, out)
	}
	var lines []string
	for l := range strings.Lines(string(out)) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}
