package ssh

import (
	"net"
	"syscall"
)

// ackAtOnce makes the kernel acknowledge at once what a read of a TCP
// connection drained. sshd turns Nagle's algorithm off only for interactive
// sessions, so a message it writes right after another one it has not seen
// acknowledged waits for that acknowledgement, which Linux delays up to 40
// ms while this side has nothing to send: after the login, messages it
// sends unasked held back the confirmation of each connection's first
// session by 40 ms. TCP_QUICKACK sends the
// acknowledgement due and lasts until the kernel's own heuristics turn
// delayed ones on again, hence after each read that drained the socket: in
// a first sync's copy, some 900 system calls where every read took 15,000.
func ackAtOnce(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	return &quickAckConn{TCPConn: tc, raw: rc}
}

type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	// A short read drained what had arrived: the machine may be holding
	// its next message until this is acknowledged. A full one leaves data
	// waiting, which a bulk transfer's usual acknowledgements cover.
	if n > 0 && n < len(p) {
		c.raw.Control(func(fd uintptr) {
			// Best effort: without it the connection only waits longer.
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
	return n, err
}
