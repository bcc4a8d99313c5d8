package spare

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/drover-dr/drover/providers/plugin/lifeline"
)

// FD is the descriptor a spare reads its orders from.
const FD = 3

// fdEnv marks a process started as a spare.
const fdEnv = "DROVER_SPARE_FD"

// maxOrders bounds the orders a spare accepts: an environment, a folder
// and a few arguments.
const maxOrders = 1 << 20

// ErrUnused is what Receive returns when the spare was released without
// being taken: the process has nothing to do and should exit quietly.
var ErrUnused = errors.New("spare process released unused")

// Process is a started spare, waiting for its orders.
type Process struct {
	path           string
	proc           *os.Process
	orders         *os.File
	stdout, stderr *os.File
}

// Start starts exe with args as a spare. The program must call Receive
// before it does anything its orders could change.
func Start(exe string, args ...string) (*Process, error) {
	var pipes [3][2]*os.File // orders, stdout, stderr: read and write ends
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(pipes[:i])
			return nil, err
		}
		pipes[i] = [2]*os.File{r, w}
	}
	orders, stdout, stderr := pipes[0], pipes[1], pipes[2]
	// The spare is the plugin to be: tied to this process as one.
	stdin, err := lifeline.Stdin()
	if err != nil {
		closeAll(pipes[:])
		return nil, err
	}
	attr := &os.ProcAttr{
		Env:   append(os.Environ(), fdEnv+"="+strconv.Itoa(FD)),
		Files: []*os.File{stdin, stdout[1], stderr[1], orders[0]},
		Sys:   &syscall.SysProcAttr{},
	}
	var proc *os.Process
	err = lifeline.Start(attr.Sys, func() (err error) {
		proc, err = os.StartProcess(exe, append([]string{exe}, args...), attr)
		return err
	})
	orders[0].Close()
	stdout[1].Close()
	stderr[1].Close()
	if err != nil {
		orders[1].Close()
		stdout[0].Close()
		stderr[0].Close()
		return nil, err
	}
	return &Process{path: exe, proc: proc, orders: orders[1], stdout: stdout[0], stderr: stderr[0]}, nil
}

func closeAll(pipes [][2]*os.File) {
	for _, p := range pipes {
		p[0].Close()
		p[1].Close()
	}
}

// Hand gives the spare its orders: it continues as if it had been started
// with args in dir with exactly env. rest follows the orders on the pipe,
// which is then closed. Hand is called once.
func (p *Process) Hand(args, env []string, dir string, rest []byte) error {
	defer p.orders.Close()
	doc := encode(args, env, dir)
	msg := append([]byte{byte(len(doc) >> 24), byte(len(doc) >> 16), byte(len(doc) >> 8), byte(len(doc))}, doc...)
	if _, err := p.orders.Write(append(msg, rest...)); err != nil {
		return fmt.Errorf("handing orders to spare process %d: %w", p.Pid(), err)
	}
	return nil
}

// Path is the program the spare runs.
func (p *Process) Path() string { return p.path }

// Pid is the spare's process ID.
func (p *Process) Pid() int { return p.proc.Pid }

// Stdout and Stderr are the spare's output.
func (p *Process) Stdout() io.ReadCloser { return p.stdout }
func (p *Process) Stderr() io.ReadCloser { return p.stderr }

// Wait waits for the spare to exit.
func (p *Process) Wait() error {
	st, err := p.proc.Wait()
	if err == nil && !st.Success() {
		err = fmt.Errorf("spare process %s", st)
	}
	return err
}

// Kill ends the spare at once.
func (p *Process) Kill() error {
	if err := p.proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// release ends a spare nobody took. It holds nothing, so it is killed
// rather than left to finish initialising and read the end of its orders.
func (p *Process) release() {
	p.Kill()
	p.proc.Wait()
	p.orders.Close()
	p.stdout.Close()
	p.stderr.Close()
}

var (
	mu   sync.Mutex
	kept *Process
)

// Keep holds p for the first Take.
func Keep(p *Process) {
	mu.Lock()
	defer mu.Unlock()
	kept = p
}

// Take returns the kept spare if it runs the program at path, and
// nothing takes it again.
func Take(path string) *Process {
	mu.Lock()
	defer mu.Unlock()
	p := kept
	if p == nil || p.path != path {
		return nil
	}
	kept = nil
	return p
}

// Release ends the kept spare if nothing took it, and waits for it to exit.
func Release() {
	mu.Lock()
	p := kept
	kept = nil
	mu.Unlock()
	if p != nil {
		p.release()
	}
}

// received is the spare's end of its orders pipe, kept for the life of
// the process: collected, it would close the descriptor that what follows
// the orders is read from.
var received *os.File

// Receive is the spare's side. In a process started as a spare it waits
// for the orders, takes their environment and folder and returns their
// arguments; the descriptor FD then holds what followed the orders. In any
// other process it returns nil. ErrUnused means the spare was released.
func Receive() ([]string, error) {
	if os.Getenv(fdEnv) != strconv.Itoa(FD) {
		return nil, nil
	}
	received = os.NewFile(FD, "drover-spare-orders")
	f := received
	var size [4]byte
	if _, err := io.ReadFull(f, size[:]); err != nil {
		if err == io.EOF {
			return nil, ErrUnused
		}
		return nil, fmt.Errorf("reading the spare's orders: %w", err)
	}
	n := int(size[0])<<24 | int(size[1])<<16 | int(size[2])<<8 | int(size[3])
	if n > maxOrders {
		return nil, fmt.Errorf("the spare's orders are larger than %d bytes", maxOrders)
	}
	doc := make([]byte, n)
	if _, err := io.ReadFull(f, doc); err != nil {
		return nil, fmt.Errorf("reading the spare's orders: %w", err)
	}
	args, env, dir, err := decode(string(doc))
	if err != nil {
		return nil, err
	}
	os.Clearenv()
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			os.Setenv(k, v)
		}
	}
	if err := os.Chdir(dir); err != nil {
		return nil, fmt.Errorf("the spare's orders: %w", err)
	}
	return args, nil
}

// encode writes the orders as length-prefixed fields (LEN:TEXT): the
// folder, the number of arguments, the arguments, then the environment.
func encode(args, env []string, dir string) []byte {
	var b []byte
	put := func(s string) {
		b = append(append(strconv.AppendInt(b, int64(len(s)), 10), ':'), s...)
	}
	put(dir)
	put(strconv.Itoa(len(args)))
	for _, a := range args {
		put(a)
	}
	for _, kv := range env {
		put(kv)
	}
	return b
}

// decode reads what encode wrote.
func decode(doc string) (args, env []string, dir string, err error) {
	var fields []string
	for doc != "" {
		lenText, rest, ok := strings.Cut(doc, ":")
		n, convErr := strconv.Atoi(lenText)
		if !ok || convErr != nil || n < 0 || n > len(rest) {
			return nil, nil, "", errors.New("the spare's orders are malformed")
		}
		fields = append(fields, rest[:n])
		doc = rest[n:]
	}
	if len(fields) < 2 {
		return nil, nil, "", errors.New("the spare's orders are malformed")
	}
	nargs, convErr := strconv.Atoi(fields[1])
	if convErr != nil || nargs < 0 || nargs > len(fields)-2 {
		return nil, nil, "", errors.New("the spare's orders are malformed")
	}
	return fields[2 : 2+nargs], fields[2+nargs:], fields[0], nil
}
