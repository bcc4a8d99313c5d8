// Package sshtest starts real OpenSSH servers for tests: sshd on a
// 127.0.0.1 high port with its own host keys, accepting one client key for
// every user, stopped when the test ends. It is for tests only.
package sshtest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Server is a real OpenSSH server a test started on 127.0.0.1, accepting
// the client key for every user.
type Server struct {
	Addr    string
	Dir     string
	User    string
	HostKey xssh.PublicKey
	// ECDSAKey is the server's second host key.
	ECDSAKey xssh.PublicKey
	// Identity is the client's private key file; KnownHosts holds the
	// host key's line.
	Identity   string
	KnownHosts string
	Cmd        *exec.Cmd
	Log        *lockedBuffer
	// exited is closed when Cmd has ended.
	exited chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start starts sshd for the test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	testenv.Root(t)
	bin := testenv.Command(t, "sshd", "openssh-server")
	// Privilege separation wants its empty folder, which no service made.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &Server{Dir: dir, User: u.Username, Log: &lockedBuffer{}}
	s.HostKey = WriteKey(t, filepath.Join(dir, "host_ed25519"))
	s.ECDSAKey = WriteECDSAKey(t, filepath.Join(dir, "host_ecdsa"))
	client := WriteKey(t, filepath.Join(dir, "id_ed25519"))
	s.Identity = filepath.Join(dir, "id_ed25519")
	WriteFile(t, filepath.Join(dir, "authorized_keys"), string(xssh.MarshalAuthorizedKey(client)))

	// A port free a moment ago may be taken by the time sshd binds it:
	// try a few.
	for attempt := 0; ; attempt++ {
		s.Addr = freeAddr(t)
		config := fmt.Sprintf(`ListenAddress %s
HostKey %s/host_ed25519
HostKey %s/host_ecdsa
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
MaxSessions 32
Subsystem sftp internal-sftp
LogLevel VERBOSE
`, s.Addr, dir, dir, dir, dir)
		WriteFile(t, filepath.Join(dir, "sshd_config"), config)
		if s.run(t, bin) {
			t.Cleanup(func() {
				s.stop(syscall.SIGTERM)
				if t.Failed() {
					t.Logf("sshd's log:\n%s", s.Log.String())
				}
			})
			break
		}
		if attempt == 2 {
			t.Fatalf("sshd did not start:\n%s", s.Log.String())
		}
	}
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	WriteFile(t, s.KnownHosts, knownhosts.Line([]string{s.Addr}, s.HostKey)+"\n")
	return s
}

// run starts sshd with the config in Dir and reports whether it listens;
// one that does not is stopped.
func (s *Server) run(t testing.TB, bin string) bool {
	t.Helper()
	s.Cmd = exec.Command(bin, "-D", "-e", "-f", filepath.Join(s.Dir, "sshd_config"))
	s.Cmd.Stdout, s.Cmd.Stderr = s.Log, s.Log
	// Connections a test left open keep sshd's children, and the
	// log's pipe, alive after the listener ends.
	s.Cmd.WaitDelay = 5 * time.Second
	if err := s.Cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	exited := make(chan struct{})
	s.exited = exited
	go func() { s.Cmd.Wait(); close(exited) }()
	if s.waitListening(exited) {
		return true
	}
	s.stop(syscall.SIGKILL)
	return false
}

// stop signals the listener and waits for it to end, killing it if it
// lingers; one that has ended already is left.
func (s *Server) stop(sig syscall.Signal) {
	select {
	case <-s.exited:
		return
	default:
	}
	s.Cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.Cmd.Process.Kill()
		<-s.exited
	}
}

// Crash kills sshd, the listener and every process serving a connection,
// as a machine that went down ends them: clients see their connections
// cut, and new ones refused until Restart.
func (s *Server) Crash(t testing.TB) {
	t.Helper()
	pids := s.ConnectionPIDs(t)
	// All at once: the listener's Wait lasts until its children, which
	// hold the log's pipe, have ended.
	for _, pid := range append(pids, s.Cmd.Process.Pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	<-s.exited
	WaitFor(t, "the connections' sshd processes to end", func() bool {
		for _, pid := range pids {
			if syscall.Kill(pid, 0) == nil {
				return false
			}
		}
		return true
	})
}

// Restart starts sshd again after Crash, on the same address with the
// same keys.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if !s.run(t, testenv.Command(t, "sshd", "openssh-server")) {
		t.Fatalf("sshd did not start again on %s:\n%s", s.Addr, s.Log.String())
	}
}

// Append adds lines to sshd's configuration and starts it again with
// them: connections made before keep the settings they had.
func (s *Server) Append(t testing.TB, lines string) {
	t.Helper()
	config := filepath.Join(s.Dir, "sshd_config")
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, config, string(b)+lines)
	s.Crash(t)
	s.Restart(t)
}

// waitListening polls until sshd answers with its banner, or exits.
func (s *Server) waitListening(exited <-chan struct{}) bool {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			banner, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(banner, "SSH-2.0-") {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// ConnectionPIDs lists the sshd processes serving connections: the
// listener's descendants. It reads /proc rather than running pgrep, so
// that Crash cuts a transfer off where it was.
func (s *Server) ConnectionPIDs(t testing.TB) []int {
	t.Helper()
	var pids []int
	for parents := []int{s.Cmd.Process.Pid}; len(parents) > 0; {
		parent := parents[0]
		parents = parents[1:]
		out, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", parent, parent))
		for _, f := range strings.Fields(string(out)) {
			pid, _ := strconv.Atoi(f)
			pids = append(pids, pid)
			parents = append(parents, pid)
		}
	}
	return pids
}

// DropConnections kills the sshd processes serving connections, as a
// network failure or a restarted server would end them.
func (s *Server) DropConnections(t testing.TB) {
	t.Helper()
	pids := s.ConnectionPIDs(t)
	if len(pids) == 0 {
		t.Fatal("no connection to drop")
	}
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	WaitFor(t, "the connections' sshd processes to end", func() bool { return len(s.ConnectionPIDs(t)) == 0 })
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WriteKey writes a new ed25519 private key in OpenSSH's format and
// returns its public key.
func WriteKey(t testing.TB, file string) xssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := xssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := xssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func WriteECDSAKey(t testing.TB, file string) xssh.PublicKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := xssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := xssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func WriteFile(t testing.TB, file, content string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// WaitFor polls cond until it holds, failing the test after a deadline.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
