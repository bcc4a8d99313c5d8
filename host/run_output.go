package host

import (
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// outputs carries what a command writes to writers that are not files,
// through pipes of Run's own rather than os/exec's: os/exec makes both
// ends of its pipes pollable, the command's end only to close it once the
// command started, and that registration and its removal were two system
// calls, a finalizer and a poller descriptor per stream, per command (a
// runbook's step runs one). The command's end here is a plain file.
type outputs struct {
	child   []*os.File // the command's ends, closed once it started
	readers []*os.File
	writers []io.Writer
	copying sync.WaitGroup
	errMu   sync.Mutex
	err     error // the first copy's error
}

// connect makes the pair of stdout and stderr writers cmd's: a file or
// nil as it is, another writer through a pipe, one pipe for the two when
// they are the same writer (as os/exec does: what the command writes on
// both then arrives in its order).
func (o *outputs) connect(cmd *exec.Cmd, stdout, stderr io.Writer) error {
	var err error
	if cmd.Stdout, err = o.pipeTo(stdout); err != nil {
		return err
	}
	if sameWriter(stdout, stderr) {
		cmd.Stderr = cmd.Stdout
		return nil
	}
	cmd.Stderr, err = o.pipeTo(stderr)
	return err
}

func (o *outputs) pipeTo(w io.Writer) (io.Writer, error) {
	if _, ok := w.(*os.File); ok || w == nil {
		return w, nil
	}
	r, cw, err := outputPipe()
	if err != nil {
		return nil, err
	}
	o.child = append(o.child, cw)
	o.readers = append(o.readers, r)
	o.writers = append(o.writers, w)
	return cw, nil
}

// sameWriter reports whether a and b are the same writer; writers that
// cannot be compared (a struct holding a func) are not.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() { recover() }()
	return a != nil && a == b
}

// started closes the command's ends and, when it started, copies what it
// writes; otherwise it closes the pipes.
func (o *outputs) started(ok bool) {
	for _, f := range o.child {
		f.Close()
	}
	for i, r := range o.readers {
		if !ok {
			r.Close()
			continue
		}
		o.copying.Add(1)
		go func() {
			defer o.copying.Done()
			if _, err := io.Copy(o.writers[i], r); err != nil {
				o.errMu.Lock()
				if o.err == nil {
					o.err = err
				}
				o.errMu.Unlock()
			}
		}()
	}
}

// wait waits, once the command has exited, for the copies to reach the
// pipes' ends, which a process the command left running may hold open:
// for waitDelay at most, after which the pipes are closed and the error
// is exec.ErrWaitDelay, as os/exec's own pipes would be.
func (o *outputs) wait() error {
	if len(o.readers) == 0 {
		return nil
	}
	closeAll := func() {
		for _, r := range o.readers {
			r.Close()
		}
	}
	expiry := time.AfterFunc(waitDelay, closeAll)
	o.copying.Wait()
	if !expiry.Stop() {
		return exec.ErrWaitDelay
	}
	closeAll()
	return o.err
}
