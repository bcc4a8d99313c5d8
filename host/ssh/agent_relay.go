package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/agent"
	xssh "golang.org/x/crypto/ssh"
)

// A file open in the agent streams its bytes raw (host.StreamFile) on a
// channel of its own: an SSH direct-streamlocal channel to the agent's
// relay socket (host/agent's relay.go), which sshd allows unless
// AllowStreamLocalForwarding says no. A copy between two machines that
// both run the agent then costs the controller one decryption and one
// encryption per byte, and a copy with one buffer.

var _ host.StreamFile = agentFile{}

// relayConn is a channel to the agent's relay socket: closed when ctx
// ends, which ends the transfer on the machine too; the SSH connection
// counts as in use until it is closed.
type relayConn struct {
	net.Conn
	stop    func() bool
	release func()
}

func (c *relayConn) Close() error {
	c.stop()
	defer c.release()
	return c.Conn.Close()
}

// CloseWrite ends what the controller sends (an EOF on the channel),
// leaving the agent's answer to be read.
func (c *relayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// dialRelay opens a channel to the relay socket of the file's agent; an
// agent without one, or an sshd that refuses the channel, gives an error
// wrapping agent.ErrNoRelay.
func (f agentFile) dialRelay(ctx context.Context) (*relayConn, error) {
	socket, ok := f.File.Relays()
	if !ok {
		return nil, fmt.Errorf("%w: the agent on %s has no relay socket", agent.ErrNoRelay, f.h.c.addr)
	}
	cn, release, err := f.h.c.get(ctx)
	if err != nil {
		return nil, f.err("relay", err)
	}
	nc, err := cn.dialSocket(ctx, socket)
	if err != nil {
		release()
		if errors.Is(err, agent.ErrNoRelay) {
			return nil, err
		}
		return nil, f.err("relay", err)
	}
	return &relayConn{Conn: nc, stop: context.AfterFunc(ctx, func() { nc.Close() }), release: sync.OnceFunc(release)}, nil
}

// dialSocket opens a channel to the agent's relay socket; an sshd that
// refuses it gives an error wrapping agent.ErrNoRelay, and one that
// forbids such channels is not asked again on the same connection.
func (cn *conn) dialSocket(ctx context.Context, socket string) (net.Conn, error) {
	if refused := cn.agent.noRelay.Load(); refused != nil {
		return nil, *refused
	}
	nc, err := cn.ssh.DialContext(ctx, "unix", socket)
	if err == nil {
		return nc, nil
	}
	if connectionLost(err) || ctx.Err() != nil {
		return nil, err
	}
	var open *xssh.OpenChannelError
	prohibited := errors.As(err, &open) && open.Reason == xssh.Prohibited
	err = fmt.Errorf("%w: the sshd of %s refused a channel to the agent's socket (%v)", agent.ErrNoRelay, cn.addr, err)
	if prohibited {
		cn.agent.noRelay.Store(&err)
	}
	return nil, err
}

// opsConn is a channel to the agent's relay socket that carries op calls
// (agent.Ops), kept for the next call once one ended with an answer.
type opsConn struct {
	*agent.Ops
	nc     net.Conn
	client *agent.Client
}

// invokeOverRelay runs an op that carries bulk data on a channel to the
// agent's relay socket (one kept from an earlier call, or a new one),
// reading the response into buf. An agent without the socket, or an sshd
// that refuses the channel, gives an error wrapping agent.ErrNoRelay, for
// the caller to use the stream.
func (h *Host) invokeOverRelay(ctx context.Context, name string, req, buf []byte) (out []byte, err error) {
	err = h.do(ctx, false, func(cn *conn) error {
		a, err := h.agentOn(ctx, cn)
		if err != nil {
			return err
		}
		oc, err := cn.takeOps(ctx, a)
		if err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { oc.nc.Close() })
		out, err = oc.Invoke(h.scope(), name, req, buf, func(p host.Progress) { host.ReportProgress(ctx, p) })
		if !stop() {
			oc.nc.Close()
			return ctx.Err()
		}
		if errors.Is(err, agent.ErrLost) {
			oc.nc.Close()
			return err
		}
		cn.agent.putOps(oc)
		return err
	})
	return out, err
}

// takeOps returns a kept channel to a, cn's agent, or opens one.
func (cn *conn) takeOps(ctx context.Context, a *agent.Client) (*opsConn, error) {
	st := &cn.agent
	st.opsMu.Lock()
	for len(st.idleOps) > 0 {
		oc := st.idleOps[len(st.idleOps)-1]
		st.idleOps = st.idleOps[:len(st.idleOps)-1]
		if oc.client == a {
			st.opsMu.Unlock()
			return oc, nil
		}
		oc.nc.Close()
	}
	st.opsMu.Unlock()
	if a.Hello.Relay == "" {
		return nil, fmt.Errorf("%w: the agent on %s has no relay socket", agent.ErrNoRelay, cn.addr)
	}
	nc, err := cn.dialSocket(ctx, a.Hello.Relay)
	if err != nil {
		return nil, err
	}
	ops, err := agent.OpenOps(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	opsChannels.Add(1)
	return &opsConn{Ops: ops, nc: nc, client: a}, nil
}

// opsChannels counts the channels opened for op calls, for the tests.
var opsChannels atomic.Int64

func (st *agentState) putOps(oc *opsConn) {
	st.opsMu.Lock()
	defer st.opsMu.Unlock()
	st.idleOps = append(st.idleOps, oc)
}

// ReadStream streams the n bytes at off from the agent, raw.
func (f agentFile) ReadStream(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	c, err := f.dialRelay(ctx)
	if err != nil {
		return nil, err
	}
	r, err := f.File.ReadRelay(c, off, n)
	if err != nil {
		c.Close()
		if errors.Is(err, agent.ErrNoRelay) {
			return nil, err
		}
		return nil, f.err("read", err)
	}
	return readStream{r, c, f}, nil
}

type readStream struct {
	r io.Reader
	c *relayConn
	f agentFile
}

func (s readStream) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	return n, s.f.err("read", err)
}

func (s readStream) Close() error { return s.c.Close() }

// Compresses is what the agent's calls make of data like sample.
func (f agentFile) Compresses(sample []byte) bool { return agent.Compressible(sample) }

// WriteStream writes into the file in the agent from off, raw.
func (f agentFile) WriteStream(ctx context.Context, off, n int64) (io.WriteCloser, error) {
	c, err := f.dialRelay(ctx)
	if err != nil {
		return nil, err
	}
	w, err := f.File.WriteRelay(c, off, n)
	if err != nil {
		c.Close()
		return nil, f.err("write", err)
	}
	return writeStream{w, c, f}, nil
}

type writeStream struct {
	w *agent.RelayWriter
	c *relayConn
	f agentFile
}

func (s writeStream) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	return n, s.f.err("write", err)
}

// Close returns once the agent wrote all it was sent.
func (s writeStream) Close() error {
	err := s.w.Finish(s.c.CloseWrite)
	s.c.Close()
	return s.f.err("write", err)
}
