package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/shellquote"
	xssh "golang.org/x/crypto/ssh"
)

// pidWait bounds how long a cancelled Run waits for the remote shell to
// name its process, which it does before anything else.
const pidWait = 10 * time.Second

// waitDelay bounds how long a cancelled Run waits for the session to end
// once the command was killed.
const waitDelay = 5 * time.Second

// Run executes argv on the machine through an exec request. sshd hands
// the request to the user's login shell (which must be a POSIX shell), so
// the line is built by shellquote from argv and nothing else:
//
//	echo $$ && cd -- DIR && exec env -- NAME=VALUE... ARGV...
//
// The shell prints its pid first. sshd starts every session's command as
// the leader of a session of its own, so that pid is also the id of the
// process group the command and its children run in: when ctx ends, that
// group gets SIGTERM, then SIGKILL after KillGrace, through a second exec
// request. On a rooted host DROVER_HOST_ROOT names the root and Dir is
// below it, as for a local host. A program the machine lacks is exit code
// 127 (the shell's), not an error.
func (h *Host) Run(ctx context.Context, argv []string, opts host.RunOptions) (host.RunResult, error) {
	return h.run(ctx, argv, opts, h.root != "")
}

// run is Run, on a rooted host for the command's sake (rooted) or for one
// of the machine's tools that the host runs on a path it resolved.
func (h *Host) run(ctx context.Context, argv []string, opts host.RunOptions, rooted bool) (host.RunResult, error) {
	if len(argv) == 0 || argv[0] == "" {
		return host.RunResult{}, fmt.Errorf("host %q: run: no command given", h.name)
	}
	if strings.Contains(argv[0], "=") {
		return host.RunResult{}, fmt.Errorf("host %q: run %q: a program name holding '=' cannot be run through env", h.name, argv[0])
	}
	words := []string{"env", "--"}
	for _, kv := range opts.Env {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			return host.RunResult{}, fmt.Errorf("host %q: run %s: environment entry %q is not NAME=VALUE", h.name, argv[0], kv)
		}
		words = append(words, kv)
	}
	var line strings.Builder
	line.WriteString("echo $$ && ")
	if rooted {
		root, err := h.resolveRoot(ctx)
		if err != nil {
			return host.RunResult{}, err
		}
		words = append(words, "DROVER_HOST_ROOT="+root)
	}
	if opts.Dir != "" {
		dir := opts.Dir
		var err error
		if rooted {
			dir, err = h.resolve(ctx, "chdir", opts.Dir, true)
		}
		if err != nil {
			return host.RunResult{}, err
		}
		cd, err := shellquote.Join("cd", "--", dir)
		if err != nil {
			return host.RunResult{}, fmt.Errorf("host %q: run %s: %w", h.name, argv[0], err)
		}
		line.WriteString(cd + " && ")
	}
	cmd, err := shellquote.Join(append(words, argv...)...)
	if err != nil {
		return host.RunResult{}, fmt.Errorf("host %q: run %s: %w", h.name, argv[0], err)
	}
	line.WriteString("exec " + cmd)

	var res host.RunResult
	err = h.do(ctx, false, func(cn *conn) error {
		var err error
		res, err = h.session(ctx, cn, line.String(), opts)
		return err
	})
	if err != nil {
		return host.RunResult{ExitCode: -1}, fmt.Errorf("host %q: run %s: %w", h.name, argv[0], err)
	}
	return res, nil
}

func (h *Host) session(ctx context.Context, cn *conn, line string, opts host.RunOptions) (host.RunResult, error) {
	s, err := cn.ssh.NewSession()
	if err != nil {
		return host.RunResult{}, fmt.Errorf("opening a session: %w", err)
	}
	defer s.Close()
	pid := &pidWriter{w: opts.Stdout, got: make(chan struct{})}
	s.Stdin, s.Stdout, s.Stderr = opts.Stdin, pid, opts.Stderr
	if err := s.Start(line); err != nil {
		return host.RunResult{}, fmt.Errorf("starting the command: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- s.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		killed := h.kill(cn, pid)
		s.Close()
		// sshd may hold the channel open while something of the command
		// lives on: do not wait for it longer than a local Run would.
		select {
		case <-waited:
		case <-time.After(waitDelay):
		}
		if !killed {
			return host.RunResult{ExitCode: -1}, fmt.Errorf("%w, and the command could not be killed on the machine (its pid never came): it may still run there", context.Cause(ctx))
		}
		return host.RunResult{ExitCode: -1}, fmt.Errorf("%w (the command's process group was killed on the machine)", context.Cause(ctx))
	}
	var exit *xssh.ExitError
	switch {
	case err == nil:
		return host.RunResult{}, nil
	case errors.As(err, &exit):
		if exit.Signal() != "" {
			return host.RunResult{ExitCode: -1}, nil
		}
		return host.RunResult{ExitCode: exit.ExitStatus()}, nil
	default:
		return host.RunResult{}, err
	}
}

// kill ends the process group named by the command's first line of output:
// SIGTERM, then SIGKILL once KillGrace has passed with the group still
// there. It says whether it knew the group.
func (h *Host) kill(cn *conn, pid *pidWriter) bool {
	select {
	case <-pid.got:
	case <-time.After(pidWait):
	}
	pgid := pid.pid()
	if pgid <= 1 {
		return false
	}
	group := "-" + strconv.Itoa(pgid)
	polls := strconv.Itoa(max(1, int(h.c.opts.KillGrace/(100*time.Millisecond))))
	// Numbers only, made here: nothing in this line comes from outside.
	script := "kill -TERM -- " + group + " 2>/dev/null; i=0; " +
		"while kill -0 -- " + group + " 2>/dev/null && [ $i -lt " + polls + " ]; do sleep 0.1; i=$((i+1)); done; " +
		"kill -KILL -- " + group + " 2>/dev/null; true"
	s, err := cn.ssh.NewSession()
	if err != nil {
		return false
	}
	defer s.Close()
	return s.Run(script) == nil
}

// pidWriter takes the first line of a command's output (its pid) and
// passes the rest on.
type pidWriter struct {
	w   io.Writer
	got chan struct{}

	mu   sync.Mutex
	line []byte
	done bool
	n    int
}

func (p *pidWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	if p.done {
		p.mu.Unlock()
		return p.write(b)
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		p.line = append(p.line, b...)
		p.mu.Unlock()
		return len(b), nil
	}
	p.line = append(p.line, b[:i]...)
	p.n, _ = strconv.Atoi(string(p.line))
	p.done = true
	close(p.got)
	p.mu.Unlock()
	n, err := p.write(b[i+1:])
	return i + 1 + n, err
}

func (p *pidWriter) write(b []byte) (int, error) {
	if p.w == nil || len(b) == 0 {
		return len(b), nil
	}
	return p.w.Write(b)
}

func (p *pidWriter) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}
