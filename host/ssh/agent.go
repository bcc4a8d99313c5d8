package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/agent"
	"github.com/drover-dr/drover/host/shellquote"
)

// defaultAgentCache is where the agent is cached on the machine, below the
// login's home folder: one folder per build, named by its sha256.
const defaultAgentCache = ".cache/drover/agent"

// agentStart bounds the upload-free part of starting the agent: the exec
// request and the handshake.
const agentStart = 30 * time.Second

// goNames maps what `uname -sm` prints to Go's names of systems and
// architectures: the agent runs only where this binary does.
var goNames = map[string]string{
	"Linux": "linux", "FreeBSD": "freebsd", "OpenBSD": "openbsd", "NetBSD": "netbsd", "Darwin": "darwin",
	"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "386", "i386": "386",
	"armv7l": "arm", "riscv64": "riscv64", "ppc64le": "ppc64le", "s390x": "s390x",
}

// agentState is the agent of one connection: started on the first
// operation that needs it, ended with the connection.
type agentState struct {
	mu     sync.Mutex
	client *agent.Client
	// noRelay holds why sshd refused a channel to the agent's relay
	// socket: it refuses the next one too (agent_relay.go).
	noRelay atomic.Pointer[error]
	// idleOps are the relay channels that carry op calls, between
	// calls.
	opsMu   sync.Mutex
	idleOps []*opsConn
}

// errNoAgent wraps the reason a connection has no agent.
var errNoAgent = errors.New("no agent on the machine")

// withAgent runs op with the connection's agent, starting it first if
// need be, as h.do runs an operation (a dropped connection is redialled,
// and an idempotent op repeated). Without an agent it fails with
// errNoAgent and the reason, for the caller to use SFTP instead.
func (h *Host) withAgent(ctx context.Context, idempotent bool, op func(*agent.Client) error) error {
	return h.do(ctx, idempotent, func(cn *conn) error {
		a, err := h.agentOn(ctx, cn)
		if err != nil {
			return err
		}
		return op(a)
	})
}

// agentOn returns cn's agent, started if need be, for an operation run
// by h.do.
func (h *Host) agentOn(ctx context.Context, cn *conn) (*agent.Client, error) {
	a, err := h.c.agentOf(ctx, cn)
	if err != nil && connectionLost(err) {
		// Nothing of the operation was done: it may be tried again on a
		// new connection, whatever it is.
		return nil, notStarted{err}
	}
	return a, err
}

// scope is the host as the agent serves it.
func (h *Host) scope() agent.Scope {
	return agent.Scope{Name: h.name, Root: h.top, Sub: h.prefix, SubID: h.subID}
}

// subIDs numbers the Sub hosts of this process.
var subIDs atomic.Uint64

// releaseSub tells the agent, if one runs, that the Sub host h is closed:
// the folder it holds open for it is closed too. An agent that is gone
// holds nothing.
func (h *Host) releaseSub() {
	h.c.mu.Lock()
	cn := h.c.cur
	h.c.mu.Unlock()
	if cn == nil || !cn.alive() {
		return
	}
	cn.agent.mu.Lock()
	a := cn.agent.client
	cn.agent.mu.Unlock()
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), agentStart)
	defer cancel()
	a.Release(ctx, h.scope())
}

// agentOf returns cn's agent, starting it on first use: the cached copy
// of this build is started, and its handshake must report the checksum of
// this very binary. Where none starts (none there yet, a copy cut short or
// changed on the machine), uname decides whether this binary runs there,
// and it is uploaded over what is there and started, once. Neither the
// start nor its check needs SFTP: only an upload opens it.
func (c *connector) agentOf(ctx context.Context, cn *conn) (*agent.Client, error) {
	st := &cn.agent
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.client != nil {
		select {
		case <-st.client.Done():
			// The agent ended while the connection lives: start another.
			st.client = nil
		default:
			return st.client, nil
		}
	}
	if none := c.noAgent.Load(); none != nil {
		return nil, *none
	}
	client, err := c.startAgent(ctx, cn)
	if err != nil {
		if errors.Is(err, errNoAgent) {
			// Held for later connections too: the machine's system, this
			// program and what its home allows do not change with a
			// redial, and a failed start costs an upload.
			c.noAgent.Store(&err)
		}
		return nil, err
	}
	st.client = client
	return client, nil
}

func (c *connector) startAgent(ctx context.Context, cn *conn) (*agent.Client, error) {
	prog, err := agent.Program()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoAgent, err)
	}
	exe := c.agentPath(prog)
	for try := 0; ; try++ {
		client, err := c.execAgent(ctx, cn, exe, prog)
		if err == nil || connectionLost(err) || ctx.Err() != nil || try > 0 {
			return client, err
		}
		// No copy of this build (a first connection), or one that is
		// not this binary (cut short, changed on the machine): upload it.
		if err := c.replaceAgent(ctx, cn, prog, exe); err != nil {
			return nil, err
		}
	}
}

// replaceAgent uploads this binary to exe, in place of what is there,
// once uname says it runs on the machine: a home folder shared with
// machines of another system holds copies that run there and not here,
// never replaced from here. The uname session and the SFTP session the
// upload needs start together. Nothing is removed first: another
// connection may have put a good copy there since this one's did not
// start, and the upload replaces whatever is there in one rename.
func (c *connector) replaceAgent(ctx context.Context, cn *conn, prog agent.Self, exe string) error {
	var sc *sftpSession
	var serr error
	started := make(chan struct{})
	go func() {
		defer close(started)
		sc, serr = cn.files()
	}()
	err := c.sameSystem(cn, prog)
	<-started
	if err != nil {
		return err
	}
	if serr != nil {
		if connectionLost(serr) {
			return serr
		}
		return fmt.Errorf("%w: uploading the agent: %w", errNoAgent, serr)
	}
	return c.uploadAgent(ctx, sc, prog, exe)
}

// sameSystem says whether this binary runs on the machine, by its uname.
func (c *connector) sameSystem(cn *conn, prog agent.Self) error {
	s, err := cn.ssh.NewSession()
	if err != nil {
		return fmt.Errorf("opening a session for uname: %w", err)
	}
	defer s.Close()
	var out, stderr bytes.Buffer
	s.Stdout, s.Stderr = &out, &stderr
	if err := s.Run(c.unameCommand()); err != nil {
		if connectionLost(err) {
			return err
		}
		return fmt.Errorf("%w: uname -sm failed on the machine (%v): %s", errNoAgent, err, strings.TrimSpace(stderr.String()))
	}
	fields := strings.Fields(out.String())
	if len(fields) != 2 || goNames[fields[0]] != prog.GOOS || goNames[fields[1]] != prog.GOARCH {
		return fmt.Errorf("%w: the machine runs %q and this Drover is built for %s/%s, so its work goes through SFTP", errNoAgent, strings.TrimSpace(out.String()), prog.GOOS, prog.GOARCH)
	}
	return nil
}

func (c *connector) unameCommand() string {
	if c.uname != "" {
		return c.uname
	}
	return "uname -sm"
}

// agentPath is where this build of the agent lives on the machine:
// CACHE/SHA256/drover, the cache relative to the home folder unless
// absolute, as both the login shell and the SFTP server start there.
func (c *connector) agentPath(prog agent.Self) string {
	cache := c.opts.AgentCache
	if cache == "" {
		cache = defaultAgentCache
	}
	return path.Join(cache, prog.SHA256, "drover")
}

// uploadAgent copies this binary to exe: into a folder only the user can
// enter, under a temp name renamed into place once complete, so that a
// cut-off upload never looks like a cached agent, over what is there (a
// copy that is not this build, or another connection's upload). The
// folders of other builds beside it are removed: the cache keeps the
// build in use.
func (c *connector) uploadAgent(ctx context.Context, sc *sftpSession, prog agent.Self, exe string) (err error) {
	dir := path.Dir(exe)
	defer func() {
		if err != nil && !connectionLost(err) {
			err = fmt.Errorf("%w: uploading the agent to %s: %w", errNoAgent, dir, err)
		}
	}()
	if err := mkdirAll(sc, dir, 0o700); err != nil {
		return err
	}
	if err := sc.sftp.Chmod(dir, 0o700); err != nil {
		return err
	}
	src, err := os.Open(prog.Path)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := host.TempPath(exe)
	f, err := sc.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			sc.sftp.Remove(tmp)
		}
	}()
	if _, err := f.ReadFrom(ctxReader{ctx, src}); err != nil {
		return err
	}
	if err := f.Chmod(0o700); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := rename(sc, tmp, exe); err != nil {
		// SFTP's own rename (without posix-rename@openssh.com) refuses
		// an existing target: that copy goes first.
		if _, serr := sc.sftp.Lstat(exe); serr != nil {
			return err
		}
		if err := sc.sftp.Remove(exe); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := rename(sc, tmp, exe); err != nil {
			return err
		}
	}
	c.removeOtherBuilds(sc, path.Dir(dir), path.Base(dir))
	return nil
}

// staleBuild is how long a cached agent of another build stays unused
// before removeOtherBuilds takes it for one left behind.
const staleBuild = 24 * time.Hour

// removeOtherBuilds removes the cached agents of other builds (folders
// named by a sha256) from cache that no controller started for a day:
// two builds of Drover at work on one machine at once (an upgrade while a
// replicate runs) must not remove each other's agent between its upload
// and its start. Best effort: an agent running keeps running, as its
// file lives on until it exits.
func (c *connector) removeOtherBuilds(sc *sftpSession, cache, keep string) {
	list, err := sc.sftp.ReadDir(cache)
	if err != nil {
		return
	}
	for _, fi := range list {
		if fi.Name() != keep && fi.IsDir() && isSHA256(fi.Name()) && time.Since(fi.ModTime()) > staleBuild {
			sc.sftp.RemoveAll(path.Join(cache, fi.Name()))
		}
	}
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// execAgent starts exe with an exec request whose stdin and stdout are the
// protocol, and makes the handshake: the agent must be this build. Its
// folder's time is set first: a build in use stays fresh, so that no other
// build's controller takes it for one left behind (removeOtherBuilds).
func (c *connector) execAgent(ctx context.Context, cn *conn, exe string, prog agent.Self) (*agent.Client, error) {
	touch, err := shellquote.Join("touch", "-c", "--", path.Dir(exe))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoAgent, err)
	}
	run, err := shellquote.Join(append([]string{"exec", exe}, prog.Args...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoAgent, err)
	}
	line := touch + " 2>/dev/null; " + run
	s, err := cn.ssh.NewSession()
	if err != nil {
		return nil, fmt.Errorf("opening a session for the agent: %w", err)
	}
	stdin, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, err
	}
	stderr := &boundedBuffer{max: 4096}
	s.Stderr = stderr
	if err := s.Start(line); err != nil {
		s.Close()
		return nil, fmt.Errorf("starting the agent %s: %w", exe, err)
	}
	ended := make(chan struct{})
	go func() { s.Wait(); close(ended) }()
	hctx, cancel := context.WithTimeout(ctx, agentStart)
	defer cancel()
	go func() {
		select {
		case <-ended:
			cancel()
		case <-hctx.Done():
		}
	}()
	client, err := agent.NewClient(hctx, stdout, stdin, s)
	if err != nil {
		s.Close()
		select {
		case <-ended:
			why := strings.TrimSpace(stderr.String())
			if strings.Contains(why, "Permission denied") {
				why += " (is its folder on a file system mounted noexec?)"
			}
			return nil, fmt.Errorf("%w: the agent %s exited at start: %s", errNoAgent, exe, why)
		default:
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: the agent %s did not answer: %w", errNoAgent, exe, err)
	}
	if client.Hello.Sha256 != prog.SHA256 {
		client.Close()
		return nil, fmt.Errorf("%w: the agent %s is not this build of Drover (its sha256 is %s, this one's %s)", errNoAgent, exe, client.Hello.Sha256, prog.SHA256)
	}
	return client, nil
}

// boundedBuffer keeps the first max bytes written to it: an agent's
// stderr, for the error when it fails to start.
type boundedBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.b.Len(); room > 0 {
		b.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Invoke runs an op on the machine through the agent (host.Invoker); a
// host whose machine has no agent fails with host.ErrNoOps and the reason.
// An op that carries bulk data crosses the agent's relay socket where it
// can (agent_relay.go).
func (h *Host) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	return h.InvokeInto(ctx, name, req, nil)
}

// InvokeInto is Invoke, reading the response of an op that crosses the
// relay socket into buf (host.BufferInvoker).
func (h *Host) InvokeInto(ctx context.Context, name string, req, buf []byte) ([]byte, error) {
	var out []byte
	err := agent.ErrNoRelay
	if host.BulkOp(name) {
		out, err = h.invokeOverRelay(ctx, name, req, buf)
	}
	if errors.Is(err, agent.ErrNoRelay) {
		err = h.withAgent(ctx, false, func(a *agent.Client) (err error) {
			out, err = a.Invoke(ctx, h.scope(), name, req, func(p host.Progress) { host.ReportProgress(ctx, p) })
			return err
		})
	}
	if errors.Is(err, errNoAgent) {
		return nil, fmt.Errorf("host %q: op %s: %w (%w)", h.name, name, host.ErrNoOps, err)
	}
	if err != nil {
		return nil, fmt.Errorf("host %q: op %s: %w", h.name, name, err)
	}
	return out, nil
}

var (
	_ host.Invoker       = (*Host)(nil)
	_ host.BufferInvoker = (*Host)(nil)
)
