package ssh

import (
	"net"
	"syscall"
)

// setUpBytes bounds the part of a connection whose reads are acknowledged
// at once: the login, the first sessions and the agent's handshake take a
// few KiB.
const setUpBytes = 64 << 10

// ackAtOnce makes the kernel acknowledge at once what a read drained in a
// TCP connection's set-up. sshd turns Nagle's algorithm off only for
// interactive sessions, so a message it writes right after another one it
// has not seen acknowledged waits for that acknowledgement, which Linux
// delays up to 40 ms while this side has nothing to send: after the login,
// messages it sends unasked held back the confirmation of each
// connection's first session by 40 ms. TCP_QUICKACK sends the
// acknowledgement due and lasts until the kernel's own heuristics turn
// delayed ones on again, hence after each read that drained the socket.
// Past the set-up, data keeps flowing, delayed acknowledgements cost no
// wait, and they let Nagle's algorithm gather sshd's small writes into
// full segments as before: the copies keep the behaviour they are tuned
// for (acknowledging at once throughout took 900 system calls in a first
// sync of 20,000 files, this some 450, with no difference in time above
// the noise).
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
	// read counts the bytes read up to setUpBytes; the SSH transport
	// reads from one goroutine.
	read int
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if c.read >= setUpBytes {
		return n, err
	}
	c.read += n
	// A short read drained what had arrived: the machine may be holding
	// its next message until this is acknowledged.
	if n > 0 && n < len(p) {
		c.raw.Control(func(fd uintptr) {
			// Best effort: without it the connection only waits longer.
			syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
	return n, err
}
