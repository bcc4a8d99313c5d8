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
}

// errNoAgent wraps the reason a connection has no agent.
var errNoAgent = errors.New("no agent on the machine")

// withAgent runs op with the connection's agent, starting it first if
// need be, as h.do runs an operation (a dropped connection is redialled,
// and an idempotent op repeated). Without an agent it fails with
// errNoAgent and the reason, for the caller to use SFTP instead.
func (h *Host) withAgent(ctx context.Context, idempotent bool, op func(*agent.Client) error) error {
	return h.do(ctx, idempotent, func(cn *conn) error {
		a, err := h.c.agentOf(ctx, cn)
		if err != nil && connectionLost(err) {
			// Nothing of op was done: it may be tried again on a new
			// connection, whatever it is.
			return notStarted{err}
		}
		if err != nil {
			return err
		}
		return op(a)
	})
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
// of this build is started, or, where there is none, uname decides
// whether this binary runs on the machine and it is uploaded first; the
// agent's handshake must report the checksum of this very binary. A copy
// that does not start or reports another checksum (corrupted) is removed
// and uploaded again, once, if uname says this binary runs there.
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
	exe, err := c.agentPath(cn, prog)
	if err != nil {
		return nil, err
	}
	// uname is asked only before this build is written to the machine: a
	// cached copy was uploaded after it said yes, and asking costs a
	// session, which is a process started on the machine (~0.15 s).
	checked := false
	check := func() error {
		if checked {
			return nil
		}
		checked = true
		return c.sameSystem(cn, prog)
	}
	for try := 0; ; try++ {
		if _, err := cn.sftp.Lstat(exe); errors.Is(err, fs.ErrNotExist) {
			if err := check(); err != nil {
				return nil, err
			}
			if err := c.uploadAgent(ctx, cn, prog, exe); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, fmt.Errorf("%w: the cached agent %s: %w", errNoAgent, exe, err)
		}
		client, err := c.execAgent(ctx, cn, exe, prog)
		if err == nil {
			// A build in use stays fresh, so that no other build's
			// controller takes it for one left behind (removeOtherBuilds).
			// Best effort, and not waited for: a round trip of the network
			// nothing needs the answer of.
			now := time.Now()
			go cn.sftp.Chtimes(path.Dir(exe), now, now)
			return client, nil
		}
		if connectionLost(err) || ctx.Err() != nil {
			return nil, err
		}
		// A home folder shared with machines of another system holds
		// copies that run there and not here: never replaced from here.
		if serr := check(); serr != nil {
			return nil, serr
		}
		if try > 0 {
			return nil, err
		}
		// A cached copy that is not this binary (cut short, changed on
		// the machine): replace it.
		if rerr := cn.sftp.Remove(exe); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w (and removing it failed: %v)", err, rerr)
		}
	}
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
// CACHE/SHA256/drover, the cache below the home folder unless absolute.
func (c *connector) agentPath(cn *conn, prog agent.Self) (string, error) {
	cache := c.opts.AgentCache
	if cache == "" {
		cache = defaultAgentCache
	}
	if !path.IsAbs(cache) {
		home, err := cn.sftp.Getwd()
		if err != nil {
			return "", fmt.Errorf("%w: finding the home folder on the machine: %w", errNoAgent, err)
		}
		cache = path.Join(home, cache)
	}
	return path.Join(cache, prog.SHA256, "drover"), nil
}

// uploadAgent copies this binary to exe: into a folder only the user can
// enter, under a temp name renamed into place once complete, so that a
// cut-off upload never looks like a cached agent. The folders of other
// builds beside it are removed: the cache keeps the build in use.
func (c *connector) uploadAgent(ctx context.Context, cn *conn, prog agent.Self, exe string) (err error) {
	dir := path.Dir(exe)
	defer func() {
		if err != nil && !connectionLost(err) {
			err = fmt.Errorf("%w: uploading the agent to %s: %w", errNoAgent, dir, err)
		}
	}()
	if err := mkdirAll(cn, dir, 0o700); err != nil {
		return err
	}
	if err := cn.sftp.Chmod(dir, 0o700); err != nil {
		return err
	}
	src, err := os.Open(prog.Path)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := host.TempPath(exe)
	f, err := cn.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			cn.sftp.Remove(tmp)
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
	if err := rename(cn, tmp, exe); err != nil {
		return err
	}
	c.removeOtherBuilds(cn, path.Dir(dir), path.Base(dir))
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
func (c *connector) removeOtherBuilds(cn *conn, cache, keep string) {
	list, err := cn.sftp.ReadDir(cache)
	if err != nil {
		return
	}
	for _, fi := range list {
		if fi.Name() != keep && fi.IsDir() && isSHA256(fi.Name()) && time.Since(fi.ModTime()) > staleBuild {
			cn.sftp.RemoveAll(path.Join(cache, fi.Name()))
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
// protocol, and makes the handshake: the agent must be this build.
func (c *connector) execAgent(ctx context.Context, cn *conn, exe string, prog agent.Self) (*agent.Client, error) {
	line, err := shellquote.Join(append([]string{"exec", exe}, prog.Args...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoAgent, err)
	}
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
func (h *Host) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	var out []byte
	err := h.withAgent(ctx, false, func(a *agent.Client) (err error) {
		out, err = a.Invoke(ctx, h.scope(), name, req, func(p host.Progress) { host.ReportProgress(ctx, p) })
		return err
	})
	if errors.Is(err, errNoAgent) {
		return nil, fmt.Errorf("host %q: op %s: %w (%w)", h.name, name, host.ErrNoOps, err)
	}
	if err != nil {
		return nil, fmt.Errorf("host %q: op %s: %w", h.name, name, err)
	}
	return out, nil
}

var _ host.Invoker = (*Host)(nil)
