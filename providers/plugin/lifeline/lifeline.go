package lifeline

import (
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
)

// envKey=envValue marks a process whose standard input is a lifeline.
const (
	envKey   = "DROVER_LIFELINE"
	envValue = "stdin"
)

// Env is the environment entry to add to a plugin's environment when its
// standard input is Stdin.
func Env() string { return envKey + "=" + envValue }

var (
	forkOnce sync.Once
	forks    chan func()
)

// forker runs what it is sent on one OS thread for the life of the
// process: the goroutine locks it and never returns.
func forker() {
	runtime.LockOSThread()
	for f := range forks {
		f()
	}
}

// Start runs start, which starts a plugin process with sys as its
// attributes, on the thread every plugin is started from, after setting
// the parent-death signal in sys where the system has one.
func Start(sys *syscall.SysProcAttr, start func() error) error {
	forkOnce.Do(func() {
		forks = make(chan func())
		go forker()
	})
	setDeathSignal(sys)
	done := make(chan error, 1)
	forks <- func() { done <- start() }
	return <-done
}

var (
	pipeOnce sync.Once
	pipeRead *os.File
	pipeErr  error
)

// Stdin is the standard input to give a plugin process: the read end of a
// pipe whose write end this process holds, unwritten, until it exits. Its
// descriptors are close-on-exec, so only the plugins given it hold it.
func Stdin() (*os.File, error) {
	pipeOnce.Do(func() {
		var w *os.File
		pipeRead, w, pipeErr = os.Pipe()
		// Kept reachable, so never collected and closed, for the life of
		// the process.
		keptWriteEnd = w
	})
	return pipeRead, pipeErr
}

//lint:ignore U1000 only written: being reachable is its whole use
var keptWriteEnd *os.File

// Watch calls end once, in a goroutine of its own, when the process gets
// SIGTERM or its lifeline (when started with one) ends. end is expected to
// exit the process.
func Watch(end func()) {
	var once sync.Once
	ending := func() { once.Do(end) }
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		ending()
	}()
	if !hasLifeline() {
		return
	}
	go func() {
		// The CLI never writes: the read returns when it is gone.
		io.Copy(io.Discard, os.Stdin)
		ending()
	}()
}

func hasLifeline() bool { return os.Getenv(envKey) == envValue }
