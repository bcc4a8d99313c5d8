package daemontest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Process is a server process a test started.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	out    bytes.Buffer
}

// Start starts cmd with its output kept and polls ready every 20 ms until
// it returns nil. The process's exit, the end of ctx or timeout fail the
// start (the process stopped), with ready's last answer and the output.
func Start(ctx context.Context, cmd *exec.Cmd, timeout time.Duration, ready func(context.Context) error) (*Process, error) {
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = (*writer)(p), (*writer)(p)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	name := filepath.Base(cmd.Path)
	deadline := time.Now().Add(timeout)
	for {
		err := ready(ctx)
		if err == nil {
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s exited before it was ready (%v):\n%s", name, err, p.Output())
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("%s was not ready within %s (last: %v):\n%s", name, timeout, err, p.Output())
		}
	}
}

// Pid is the process's pid.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop interrupts the process and waits for it, killing it after ten
// seconds. A process already ended is left as it is.
func (p *Process) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// Output is what the process printed so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

type writer Process

func (w *writer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(b)
}

// OnFreePort calls start with a port free() finds, and again with another
// up to three times in all: a port found free may be taken before the
// server binds it.
func OnFreePort[S any](free func() (int, error), start func(port int) (S, error)) (S, error) {
	var errs []error
	for range 3 {
		port, err := free()
		if err != nil {
			var zero S
			return zero, err
		}
		s, err := start(port)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	var zero S
	return zero, errors.Join(errs...)
}

// FreeTCPPort is a TCP port free on 127.0.0.1 right now.
func FreeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Dial is a readiness probe: a TCP connection to addr.
func Dial(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}
