package ssh

import (
	"bufio"
	"bytes"
	"context"
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

// sshd is a real OpenSSH server a test started on 127.0.0.1, accepting the
// client key for every user.
type sshd struct {
	addr    string
	dir     string
	user    string
	hostKey xssh.PublicKey
	// ecdsaKey is the server's second host key.
	ecdsaKey xssh.PublicKey
	// identity is the client's private key file; knownHosts holds the
	// host key's line.
	identity   string
	knownHosts string
	cmd        *exec.Cmd
	log        *lockedBuffer
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

// startSSHD starts sshd for the test and stops it when the test ends.
func startSSHD(t *testing.T) *sshd {
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
	s := &sshd{dir: dir, user: u.Username, log: &lockedBuffer{}}
	s.hostKey = writeKey(t, filepath.Join(dir, "host_ed25519"))
	s.ecdsaKey = writeECDSAKey(t, filepath.Join(dir, "host_ecdsa"))
	client := writeKey(t, filepath.Join(dir, "id_ed25519"))
	s.identity = filepath.Join(dir, "id_ed25519")
	writeFile(t, filepath.Join(dir, "authorized_keys"), string(xssh.MarshalAuthorizedKey(client)))

	// A port free a moment ago may be taken by the time sshd binds it:
	// try a few.
	for attempt := 0; ; attempt++ {
		s.addr = freeAddr(t)
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
`, s.addr, dir, dir, dir, dir)
		writeFile(t, filepath.Join(dir, "sshd_config"), config)
		s.cmd = exec.Command(bin, "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
		s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
		if err := s.cmd.Start(); err != nil {
			t.Fatalf("starting sshd: %v", err)
		}
		exited := make(chan struct{})
		go func() { s.cmd.Wait(); close(exited) }()
		if s.waitListening(exited) {
			t.Cleanup(func() {
				s.cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(10 * time.Second):
					s.cmd.Process.Kill()
					<-exited
				}
				if t.Failed() {
					t.Logf("sshd's log:\n%s", s.log.String())
				}
			})
			break
		}
		s.cmd.Process.Kill()
		<-exited
		if attempt == 2 {
			t.Fatalf("sshd did not start:\n%s", s.log.String())
		}
	}
	s.knownHosts = filepath.Join(dir, "known_hosts")
	writeFile(t, s.knownHosts, knownhosts.Line([]string{s.addr}, s.hostKey)+"\n")
	return s
}

// waitListening polls until sshd answers with its banner, or exits.
func (s *sshd) waitListening(exited <-chan struct{}) bool {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
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

// options are the settings that reach this server as its user.
func (s *sshd) options(name string) Options {
	return Options{Name: name, Address: s.addr, User: s.user, IdentityFile: s.identity, KnownHosts: s.knownHosts}
}

// connectionPIDs lists the sshd processes serving connections: the
// listener's descendants.
func (s *sshd) connectionPIDs(t *testing.T) []int {
	t.Helper()
	var pids []int
	for parents := []int{s.cmd.Process.Pid}; len(parents) > 0; {
		parent := parents[0]
		parents = parents[1:]
		out, _ := exec.Command("pgrep", "-P", strconv.Itoa(parent)).Output()
		for _, f := range strings.Fields(string(out)) {
			pid, _ := strconv.Atoi(f)
			pids = append(pids, pid)
			parents = append(parents, pid)
		}
	}
	return pids
}

// dropConnections kills the sshd processes serving connections, as a
// network failure or a restarted server would end them.
func (s *sshd) dropConnections(t *testing.T) {
	t.Helper()
	pids := s.connectionPIDs(t)
	if len(pids) == 0 {
		t.Fatal("no connection to drop")
	}
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	waitFor(t, "the connections' sshd processes to end", func() bool { return len(s.connectionPIDs(t)) == 0 })
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// writeKey writes a new ed25519 private key in OpenSSH's format and
// returns its public key.
func writeKey(t *testing.T, file string) xssh.PublicKey {
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

func writeECDSAKey(t *testing.T, file string) xssh.PublicKey {
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

func writeFile(t *testing.T, file, content string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// connect opens a host on s, closed when the test ends.
func connect(t *testing.T, opts Options) *Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
