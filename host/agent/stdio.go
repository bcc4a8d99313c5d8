package agent

import (
	"io"
	"net"
	"sync"
	"time"
)

// pipeConn is one end of the agent's connection: a reader and a writer
// (the SSH session's stdout and stdin, or the agent's own stdin and
// stdout) as a net.Conn, for gRPC's HTTP/2 to run over. Deadlines are not
// supported: gRPC does not need them on an established connection.
type pipeConn struct {
	r io.Reader
	w io.Writer
	// closers end both directions; done is closed by the first Close.
	closers []io.Closer
	once    sync.Once
	done    chan struct{}
}

func newPipeConn(r io.Reader, w io.Writer, closers ...io.Closer) *pipeConn {
	return &pipeConn{r: r, w: w, closers: closers, done: make(chan struct{})}
}

func (c *pipeConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *pipeConn) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *pipeConn) Close() error {
	c.once.Do(func() {
		for _, cl := range c.closers {
			cl.Close()
		}
		close(c.done)
	})
	return nil
}

func (c *pipeConn) LocalAddr() net.Addr                { return pipeAddr{} }
func (c *pipeConn) RemoteAddr() net.Addr               { return pipeAddr{} }
func (c *pipeConn) SetDeadline(t time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { return nil }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "stdio" }

// onceListener yields its one connection to the first Accept; later ones
// wait until that connection is closed and then fail, which ends the gRPC
// server's Serve: the agent serves one connection and exits with it.
type onceListener struct {
	conn *pipeConn
	mu   sync.Mutex
	used bool
}

func (l *onceListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if !l.used {
		l.used = true
		l.mu.Unlock()
		return l.conn, nil
	}
	l.mu.Unlock()
	<-l.conn.done
	return nil, net.ErrClosed
}

func (l *onceListener) Close() error   { return l.conn.Close() }
func (l *onceListener) Addr() net.Addr { return pipeAddr{} }
