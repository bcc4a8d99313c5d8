package ssh

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// DialUnix opens a connection to the unix socket at path on the machine
// through the SSH connection (OpenSSH's direct-streamlocal channel, what
// `ssh -L PORT:PATH` uses): how the vm provider reaches the machine's
// libvirtd. The path is the machine's own, whatever the host's root: a
// daemon's socket is not a file of the host's tree. sshd must allow
// stream forwarding (AllowStreamLocalForwarding, its default). The SSH
// connection counts as in use until the returned one is closed, so that
// the idle timeout does not cut a long session.
func (h *Host) DialUnix(ctx context.Context, path string) (net.Conn, error) {
	cn, release, err := h.c.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("host %q: %w", h.name, err)
	}
	nc, err := cn.ssh.DialContext(ctx, "unix", path)
	if err != nil {
		release()
		return nil, fmt.Errorf("host %q: connecting to the socket %s on that machine: %w", h.name, path, err)
	}
	return &unixConn{Conn: nc, release: sync.OnceFunc(release)}, nil
}

// unixConn is a forwarded socket connection that marks its SSH connection
// idle again once closed.
type unixConn struct {
	net.Conn
	release func()
}

func (c *unixConn) Close() error {
	defer c.release()
	return c.Conn.Close()
}
