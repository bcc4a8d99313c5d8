package ssh

import (
	"context"
	"fmt"
	"net"
)

// Address is the machine's address and port as the host dials it.
func (h *Host) Address() string { return h.c.addr }

// DialTCP opens a TCP connection from the machine to addr through the SSH
// connection (sshd's direct-tcpip channel, what `ssh -W` uses): how a
// witness tells whether it still reaches another machine. sshd must allow
// TCP forwarding (its default).
func (h *Host) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	cn, release, err := h.c.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("host %q: %w", h.name, err)
	}
	defer release()
	nc, err := cn.ssh.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("host %q: connecting to %s from that machine: %w", h.name, addr, err)
	}
	return nc, nil
}
