package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/agent"
	"github.com/pkg/sftp"
	xssh "golang.org/x/crypto/ssh"
	sshagent "golang.org/x/crypto/ssh/agent"
)

// Options are a remote host's settings, as a host block gives them.
type Options struct {
	// Name is the host block's label, used in every error.
	Name string
	// Address is "NAME", "NAME:PORT", "IP", "IP:PORT" or "[IPv6]:PORT";
	// the port defaults to 22.
	Address string
	// User defaults to root.
	User string
	// IdentityFile is a private key without a passphrase; when empty the
	// SSH agent at SSH_AUTH_SOCK signs.
	IdentityFile string
	// HostKey pins the host's key, as a line of the machine's
	// /etc/ssh/ssh_host_*_key.pub ("ssh-ed25519 AAAA..."); when set,
	// known_hosts is not read.
	HostKey string
	// KnownHosts defaults to ~/.ssh/known_hosts.
	KnownHosts string
	// TrustNewHostKeys accepts a key known_hosts does not know yet and
	// appends it there (see Host.RecordedHostKeys). A changed or revoked
	// key is refused all the same.
	TrustNewHostKeys bool
	// HostKeyRecorded, when set, is told of each key TrustNewHostKeys
	// records, as it records it: also when the login then fails and New
	// returns no Host to ask.
	HostKeyRecorded func(RecordedHostKey)
	// Root confines the host to a folder of the machine, as for a local
	// host: paths are below it, created on first use.
	Root string
	// AgentCache is the folder of the machine where the agent is kept
	// between connections, one folder per build; relative to the home
	// folder unless absolute (default .cache/drover/agent).
	AgentCache string
	// NoAgent runs no agent on the machine (the host block's agent =
	// false): host.CanCall says so, and everything goes through SFTP.
	NoAgent bool

	// ConnectTimeout bounds the TCP connect and the SSH handshake
	// (default 15s).
	ConnectTimeout time.Duration
	// KeepaliveInterval is how often an idle connection is probed; one
	// that misses KeepaliveCount answers in a row is dropped and redialled
	// by the next operation (default 15s, 3).
	KeepaliveInterval time.Duration
	KeepaliveCount    int
	// IdleTimeout closes a connection nothing used for that long (default
	// 10m); the next operation dials again.
	IdleTimeout time.Duration
	// KillGrace is how long a remote command has between SIGTERM and
	// SIGKILL once its context ends (default 2s).
	KillGrace time.Duration
}

// Host is a machine reached over SSH: files through SFTP, commands through
// exec requests. It is a host.Host.
type Host struct {
	name string
	// root is the folder the host is confined to, as the machine names it
	// ("" for none); realRoot is the same with symlinks resolved, found on
	// first use.
	root string
	sub  bool
	// handle is a host host.Open gave out: the connection it uses is
	// the process's, and closing the handle leaves it open.
	handle bool
	// top is the root of the host Sub hosts were made from, as given
	// ("" for none); prefix is a Sub host's folder as that host names
	// it. The agent confines its work to the same.
	top    string
	prefix string
	// subID names a Sub host to the agent, which holds its folder open
	// until the host is closed.
	subID    uint64
	c        *connector
	rootMu   sync.Mutex
	realRoot string
}

var _ host.Host = (*Host)(nil)

// Verify does what New does before anything is done on the machine (host
// key, login) and hangs up: for a check that only proves a host can be
// used, without the agent's preparation (hashing this program, which
// costs about as long as the handshake).
func Verify(ctx context.Context, opts Options) error {
	c, err := newConnector(opts)
	if err != nil {
		return err
	}
	client, err := c.login(ctx)
	if err != nil {
		return fmt.Errorf("host %q: %w", opts.Name, err)
	}
	return client.Close()
}

// New checks opts and connects: an unknown, changed or revoked host key, a
// refused user or a missing key fails here, before anything is done on the
// machine. The connection is shared by every operation and by Sub hosts,
// and redialled when it drops between operations.
func New(ctx context.Context, opts Options) (*Host, error) {
	c, err := newConnector(opts)
	if err != nil {
		return nil, err
	}
	if !opts.NoAgent {
		agent.Prepare()
	}
	h := &Host{name: opts.Name, root: path.Clean("/" + opts.Root), c: c}
	if opts.Root == "" {
		h.root = ""
	}
	h.top = h.root
	_, release, err := c.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("host %q: %w", opts.Name, err)
	}
	release()
	return h, nil
}

// CheckSFTP starts the SFTP session of the host's connection, which New
// leaves to the first operation that needs it (where the agent serves the
// host, few do): for a check that proves the host can be used.
func (h *Host) CheckSFTP(ctx context.Context) error {
	err := h.sftpDo(ctx, true, func(*sftpSession) error { return nil })
	if err != nil {
		return fmt.Errorf("host %q: %w", h.name, err)
	}
	return nil
}

// connector owns the one connection of a host (and its Sub hosts).
type connector struct {
	opts   Options
	addr   string
	config *xssh.ClientConfig
	keys   *hostKeys
	// agent is set when the agent signs.
	agent *agentSigners

	// uname is the command that tells the machine's system and
	// architecture, for tests to play another ("" is uname -sm).
	uname string
	// noAgent says why the machine runs no agent, once a start failed:
	// its operations use SFTP and exec instead.
	noAgent atomic.Pointer[error]

	mu       sync.Mutex
	cur      *conn
	active   int
	lastUsed time.Time
	closed   bool
}

// conn is one SSH connection, with its SFTP session and its agent once
// an operation needed them.
type conn struct {
	ssh  *xssh.Client
	addr string
	// done is closed once the connection has ended.
	done  chan struct{}
	agent agentState

	sftpMu sync.Mutex
	sftp   *sftpSession
	// sftpErr is why SFTP did not start (a disabled subsystem), for the
	// connection's later operations.
	sftpErr error
}

// sftpSession is a connection's SFTP session and what its server offers.
type sftpSession struct {
	sftp        *sftp.Client
	posixRename bool
	fsync       bool
}

// files returns cn's SFTP session, starting it on first use: a host its
// agent serves needs none for most operations, and each start costs a
// round trip before the first operation. A start cut off by a dropped
// connection is notStarted, for the operation to be repeated on a new one.
func (cn *conn) files() (*sftpSession, error) {
	cn.sftpMu.Lock()
	defer cn.sftpMu.Unlock()
	if cn.sftp != nil || cn.sftpErr != nil {
		return cn.sftp, cn.sftpErr
	}
	c, err := sftp.NewClient(cn.ssh, sftp.UseConcurrentWrites(true))
	if err != nil {
		if connectionLost(err) || !cn.alive() {
			return nil, notStarted{fmt.Errorf("starting SFTP on %s: %w", cn.addr, err)}
		}
		cn.sftpErr = fmt.Errorf("starting SFTP on %s (is the sftp subsystem enabled in its sshd_config?): %w", cn.addr, err)
		return nil, cn.sftpErr
	}
	s := &sftpSession{sftp: c}
	_, s.posixRename = c.HasExtension("posix-rename@openssh.com")
	_, s.fsync = c.HasExtension("fsync@openssh.com")
	cn.sftp = s
	return s, nil
}

// closeFiles ends the SFTP session of a connection that has ended.
func (cn *conn) closeFiles() {
	cn.sftpMu.Lock()
	defer cn.sftpMu.Unlock()
	if cn.sftp != nil {
		cn.sftp.sftp.Close()
	}
}

func (c *conn) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

func newConnector(opts Options) (*connector, error) {
	if opts.Address == "" {
		return nil, fmt.Errorf("host %q: no address given", opts.Name)
	}
	if opts.User == "" {
		opts.User = "root"
	}
	for _, p := range []*string{&opts.IdentityFile, &opts.KnownHosts} {
		expanded, err := expandHome(*p)
		if err != nil {
			return nil, fmt.Errorf("host %q: %s names the home folder, which is not known: %w", opts.Name, *p, err)
		}
		*p = expanded
	}
	if opts.Root != "" && !strings.HasPrefix(opts.Root, "/") {
		return nil, fmt.Errorf("host %q: root %q is not an absolute path", opts.Name, opts.Root)
	}
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 15 * time.Second
	}
	if opts.KeepaliveInterval == 0 {
		opts.KeepaliveInterval = 15 * time.Second
	}
	if opts.KeepaliveCount == 0 {
		opts.KeepaliveCount = 3
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 10 * time.Minute
	}
	if opts.KillGrace == 0 {
		opts.KillGrace = 2 * time.Second
	}
	addr, err := hostPort(opts.Address)
	if err != nil {
		return nil, fmt.Errorf("host %q: address %q: %w", opts.Name, opts.Address, err)
	}
	auth, agentKeys, err := authMethod(opts)
	if err != nil {
		return nil, &AuthError{Err: err}
	}
	keys, err := newHostKeys(opts, addr)
	if err != nil {
		return nil, err
	}
	c := &connector{
		opts:  opts,
		addr:  addr,
		keys:  keys,
		agent: agentKeys,
		config: &xssh.ClientConfig{
			User:            opts.User,
			Auth:            []xssh.AuthMethod{auth},
			HostKeyCallback: keys.check,
			Timeout:         opts.ConnectTimeout,
		},
	}
	if opts.NoAgent {
		err := fmt.Errorf("%w: the host block sets agent = false", errNoAgent)
		c.noAgent.Store(&err)
	}
	return c, nil
}

// hostPort gives an address its port, 22 unless it names one:
// "fs1.example.net", "10.1.2.3:2222", "::1", "[::1]:2222".
func hostPort(address string) (string, error) {
	h, port, err := net.SplitHostPort(address)
	if err != nil {
		// No port, or an IPv6 address without brackets and port.
		h, port = strings.TrimSuffix(strings.TrimPrefix(address, "["), "]"), "22"
	}
	if h == "" || strings.ContainsAny(h, " /[]") {
		return "", fmt.Errorf("%q is not a host name or IP address", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q is not a port number", port)
	}
	return net.JoinHostPort(h, port), nil
}

// authMethod signs with the identity file, or else the agent (whose
// connections the caller releases after each handshake).
func authMethod(opts Options) (xssh.AuthMethod, *agentSigners, error) {
	if opts.IdentityFile != "" {
		pem, err := os.ReadFile(opts.IdentityFile)
		if err != nil {
			return nil, nil, fmt.Errorf("host %q: reading its identity_file: %w", opts.Name, err)
		}
		signer, err := xssh.ParsePrivateKey(pem)
		var missing *xssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, nil, fmt.Errorf("host %q: identity_file %s is protected by a passphrase: load it into an SSH agent (ssh-add) and leave identity_file unset", opts.Name, opts.IdentityFile)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("host %q: identity_file %s is not a private key: %w", opts.Name, opts.IdentityFile, err)
		}
		return xssh.PublicKeys(signer), nil, nil
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, nil, fmt.Errorf("host %q: no identity_file given and no SSH agent (SSH_AUTH_SOCK is unset): set identity_file or start an agent", opts.Name)
	}
	a := &agentSigners{sock: sock}
	return xssh.PublicKeysCallback(a.signers), a, nil
}

// AuthError is a login that cannot succeed: the machine refused the user
// or key (Refused), or the key cannot be read and no connection was made.
type AuthError struct {
	Refused bool
	Err     error
}

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// agentSigners reaches the SSH agent afresh at each handshake, so that a
// connection redialled later finds the agent as it is then. The agent
// connection must stay open while the handshake signs with it.
type agentSigners struct {
	sock string
	mu   sync.Mutex
	open []net.Conn
}

func (a *agentSigners) signers() ([]xssh.Signer, error) {
	c, err := net.Dial("unix", a.sock)
	if err != nil {
		return nil, fmt.Errorf("SSH agent at %s (SSH_AUTH_SOCK): %w", a.sock, err)
	}
	a.mu.Lock()
	a.open = append(a.open, c)
	a.mu.Unlock()
	return sshagent.NewClient(c).Signers()
}

// release closes the agent connections of a handshake that has ended.
func (a *agentSigners) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.open {
		c.Close()
	}
	a.open = nil
}

// get returns the live connection, dialling one when there is none or the
// last one dropped; release marks the operation done (for the idle timer).
func (c *connector) get(ctx context.Context) (*conn, func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, nil, errors.New("the host was closed")
	}
	if c.cur == nil || !c.cur.alive() {
		cn, err := c.dial(ctx)
		if err != nil {
			return nil, nil, err
		}
		c.cur = cn
	}
	c.active++
	cn := c.cur
	return cn, func() {
		c.mu.Lock()
		c.active--
		c.lastUsed = time.Now()
		c.mu.Unlock()
	}, nil
}

func (c *connector) dial(ctx context.Context) (*conn, error) {
	client, err := c.login(ctx)
	if err != nil {
		return nil, err
	}
	cn := &conn{ssh: client, addr: c.addr, done: make(chan struct{})}
	go func() {
		client.Wait()
		cn.closeFiles()
		close(cn.done)
	}()
	c.lastUsed = time.Now()
	go c.watch(cn)
	return cn, nil
}

// login dials the machine, verifies its host key and logs in: the SSH
// connection, before any session.
func (c *connector) login(ctx context.Context) (*xssh.Client, error) {
	d := net.Dialer{Timeout: c.opts.ConnectTimeout}
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, unreachable{fmt.Errorf("connecting to %s: %w", c.addr, err)}
	}
	nc.SetDeadline(time.Now().Add(c.opts.ConnectTimeout))
	// Read per dial: known_hosts may have learnt a key since.
	config := *c.config
	config.HostKeyAlgorithms = c.keys.algorithms()
	counted := &readCounter{Conn: ackAtOnce(nc)}
	sc, chans, reqs, err := xssh.NewClientConn(counted, c.addr, &config)
	if c.agent != nil {
		c.agent.release()
	}
	if err != nil {
		nc.Close()
		return nil, c.handshakeErr(err, counted.n.Load() > 0)
	}
	nc.SetDeadline(time.Time{})
	return xssh.NewClient(sc, chans, reqs), nil
}

// readCounter counts the bytes read from a connection: whether the machine
// said anything before a handshake failed.
type readCounter struct {
	net.Conn
	n atomic.Int64
}

func (r *readCounter) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// handshakeErr says why the machine was not reached in words that tell
// what to do; host key errors pass as they are. spoke says whether the
// machine sent anything (its SSH banner). Errors of the connector do not
// name the host: the operation that meets them does.
func (c *connector) handshakeErr(err error, spoke bool) error {
	var unknown *UnknownHostKeyError
	var changed *ChangedHostKeyError
	var revoked *RevokedHostKeyError
	switch {
	case errors.As(err, &unknown):
		return unknown
	case errors.As(err, &changed):
		return changed
	case errors.As(err, &revoked):
		return revoked
	}
	if strings.Contains(err.Error(), "unable to authenticate") {
		how := "the key of identity_file " + c.opts.IdentityFile
		if c.opts.IdentityFile == "" {
			how = "the SSH agent's keys"
		}
		return &AuthError{Refused: true, Err: fmt.Errorf("%s refused user %q with %s: check the user and that the key is in that user's authorized_keys (nothing was done): %w",
			c.addr, c.opts.User, how, err)}
	}
	if connectionLost(err) || errors.Is(err, syscall.ECONNRESET) {
		return &HandshakeClosedError{Addr: c.addr, Banner: spoke, Err: err}
	}
	return fmt.Errorf("SSH handshake with %s: %w", c.addr, err)
}

// HandshakeClosedError is a machine that accepted the connection and then
// closed or reset it during the SSH handshake, before the host key was
// proved and before authentication: its sshd refused this client early
// (a TCP wrapper, a firewall, too many unauthenticated connections at
// once, no algorithm in common), or what listens there is not sshd. Nothing
// was done on the machine. It is host.ErrUnreachable, for providers to
// stop at it.
type HandshakeClosedError struct {
	Addr string
	// Banner says whether the machine sent its SSH banner first: an SSH
	// server that then hung up, rather than one that never spoke.
	Banner bool
	Err    error
}

func (e *HandshakeClosedError) Error() string {
	if e.Banner {
		return fmt.Sprintf("%s closed the connection during the SSH handshake, before authentication (nothing was done): "+
			"sshd's log there says why (too many unauthenticated connections at once: MaxStartups; no key exchange, cipher or host key type in common with Drover's; "+
			"this address blocked): %v", e.Addr, e.Err)
	}
	return fmt.Sprintf("%s closed the connection before the SSH handshake began (it sent no SSH banner; nothing was done): "+
		"check that sshd listens on that port, and sshd's log there (a TCP wrapper or firewall refusing this address, too many unauthenticated connections at once: MaxStartups): %v",
		e.Addr, e.Err)
}

func (e *HandshakeClosedError) Unwrap() error        { return e.Err }
func (e *HandshakeClosedError) Is(target error) bool { return target == host.ErrUnreachable }

// watch probes cn while it lives: it closes a connection that misses
// KeepaliveCount probes in a row (a peer gone without a word), or that
// nothing used for IdleTimeout.
func (c *connector) watch(cn *conn) {
	t := time.NewTicker(c.opts.KeepaliveInterval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-cn.done:
			return
		case <-t.C:
		}
		// Closed under the lock, so that get cannot hand cn to an
		// operation in between.
		c.mu.Lock()
		idle := c.active == 0 && time.Since(c.lastUsed) >= c.opts.IdleTimeout
		if idle {
			cn.ssh.Close()
		}
		c.mu.Unlock()
		if idle {
			return
		}
		answered := make(chan error, 1)
		go func() {
			_, _, err := cn.ssh.SendRequest("keepalive@openssh.com", true, nil)
			answered <- err
		}()
		select {
		case err := <-answered:
			if err != nil {
				missed = c.opts.KeepaliveCount
			} else {
				missed = 0
			}
		case <-time.After(c.opts.KeepaliveInterval):
			missed++
		case <-cn.done:
			return
		}
		if missed >= c.opts.KeepaliveCount {
			cn.ssh.Close()
			return
		}
	}
}

func (c *connector) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.cur == nil {
		return nil
	}
	err := c.cur.ssh.Close()
	<-c.cur.done
	c.cur = nil
	if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}

// sftpDo runs op with the SFTP session of the live connection, as do runs
// an operation.
func (h *Host) sftpDo(ctx context.Context, idempotent bool, op func(*sftpSession) error) error {
	return h.do(ctx, idempotent, func(cn *conn) error {
		s, err := cn.files()
		if err != nil {
			return err
		}
		return op(s)
	})
}

// do runs op on the live connection. An idempotent op (reads, and writes
// that end in the same state when repeated) that fails because the
// connection dropped runs once more on a new one; any other op fails, as
// it may or may not have been done.
func (h *Host) do(ctx context.Context, idempotent bool, op func(*conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for try := 0; ; try++ {
		cn, release, err := h.c.get(ctx)
		if err != nil {
			return err
		}
		err = op(cn)
		release()
		if err == nil || !connectionLost(err) {
			return err
		}
		// The op saw the connection end before the Wait goroutine did:
		// make sure the next get dials.
		cn.ssh.Close()
		<-cn.done
		var ns notStarted
		if errors.As(err, &ns) && try == 0 {
			continue
		}
		if !idempotent || try > 0 {
			return unreachable{fmt.Errorf("the connection to %s dropped during the operation, which may or may not have been done: %w", h.c.addr, err)}
		}
	}
}

// unreachable marks an error as host.ErrUnreachable, its words as they are.
type unreachable struct{ error }

func (u unreachable) Unwrap() error        { return u.error }
func (u unreachable) Is(target error) bool { return target == host.ErrUnreachable }

// notStarted is a connection lost before an operation began (while its
// agent started): it is repeated on a new connection whatever it is.
type notStarted struct{ error }

func (n notStarted) Unwrap() error { return n.error }

func connectionLost(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.EOF) || errors.Is(err, agent.ErrLost) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) ||
		// What x/crypto/ssh says of a channel opened on a connection
		// whose reader has just ended.
		strings.Contains(err.Error(), "unexpected packet in response to channel open: <nil>")
}

func (h *Host) Name() string { return h.name }

// Machine names the machine by its address and port: hosts with the same
// one share a file system.
func (h *Host) Machine() string { return "ssh://" + h.c.addr }

// RecordedHostKeys lists the host keys that TrustNewHostKeys appended to
// known_hosts, for the caller to tell the user.
func (h *Host) RecordedHostKeys() []RecordedHostKey { return h.c.keys.recordedKeys() }

// Close ends the connection; closing a Sub host leaves its parent's open,
// and closing a host host.Open gave leaves the process's connection open.
func (h *Host) Close() error {
	if h.sub {
		h.releaseSub()
		return nil
	}
	if h.handle {
		return nil
	}
	return h.c.close()
}

// homeKnownHosts is OpenSSH's default known_hosts of the user running
// Drover.
func homeKnownHosts() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".ssh", "known_hosts"), nil
}
