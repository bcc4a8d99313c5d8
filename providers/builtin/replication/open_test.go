package replication

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/internal/sshtest"
	xssh "golang.org/x/crypto/ssh"
)

// TestOpenDialsHostsAtOnce: a set dials its source's and its target's
// hosts at once, not one after the other: each host's address here is a
// gate that lets a connection through to sshd only once the other host's
// connection has come.
func TestOpenDialsHostsAtOnce(t *testing.T) {
	s := sshtest.Start(t)
	// The connections are the process's (shared): ended before sshd is.
	t.Cleanup(func() { ssh.CloseShared() })
	came := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var addrs [2]string
	for i := range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		addrs[i] = l.Addr().String()
		var once sync.Once
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				once.Do(func() { close(came[i]) })
				go gate(c, came[1-i], s.Addr)
			}
		}()
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "srv", "set"), 0o755); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(xssh.MarshalAuthorizedKey(s.HostKey)))
	hc := func(name, addr string) host.Config {
		return host.Config{Name: name, Address: addr, User: s.User, IdentityFile: s.Identity, HostKey: key, Root: root, NoAgent: true}
	}
	c := setConfig{sources: []endpoint{{hc("fs1", addrs[0]), "/srv/set"}}, target: endpoint{hc("fs2", addrs[1]), "/replica"}}
	m, closeAll, err := c.open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	if got := len(m.Pairs()); got != 1 {
		t.Errorf("%d pairs, want 1", got)
	}
}

// gate lets the connection c through to sshd at addr once other is
// closed; after 5 seconds without, it drops c.
func gate(c net.Conn, other <-chan struct{}, addr string) {
	defer c.Close()
	select {
	case <-other:
	case <-time.After(5 * time.Second):
		return
	}
	up, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	go func() {
		io.Copy(up, c)
		up.Close()
	}()
	io.Copy(c, up)
}
