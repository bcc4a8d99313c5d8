package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
)

// Annotations with which a command says, in its own words, what the first
// SIGINT or SIGTERM does to it (it winds down) and what the second does
// (it exits at once with exitInterrupted). Commands without them get
// defaultInterrupted and defaultStopped.
const (
	annotationInterrupted = "drover.interrupted"
	annotationStopped     = "drover.stopped"
)

const (
	defaultInterrupted = "Interrupt received: stopping. Press Ctrl-C again to stop at once."
	defaultStopped     = "Stopping at once."
)

// interrupts turns the signals of one command run into its context's
// cancellation and, on the second, its exit. The command's own exit and
// the exit at the second signal go through exit, so the run ends with one
// message and one exit code whichever comes first.
type interrupts struct {
	mu          sync.Mutex
	interrupted string
	stopped     string
	// out is where the messages go: stderr, or what draws above progress
	// bars while they are on the terminal.
	out      io.Writer
	received bool
	exiting  bool // the command finished: a second signal changes nothing
	stopping bool // a second signal came first: the exit is exitInterrupted
	// atStop is what must happen at a second signal before the exit: a
	// runbook run kills the process groups of its running steps there,
	// which would otherwise outlive Drover.
	atStop []func()
}

func newInterrupts() *interrupts {
	return &interrupts{interrupted: defaultInterrupted, stopped: defaultStopped, out: os.Stderr}
}

// watch starts watching the signals for cmd, and returns the context to
// run it with: cancelled by the first signal.
func (in *interrupts) watch(ctx context.Context, cmd *cobra.Command) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	in.mu.Lock()
	if m := cmd.Annotations[annotationInterrupted]; m != "" {
		in.interrupted = m
	}
	if m := cmd.Annotations[annotationStopped]; m != "" {
		in.stopped = m
	}
	in.mu.Unlock()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		in.mu.Lock()
		in.received = true
		out, msg := in.out, in.interrupted
		in.mu.Unlock()
		// Written outside the lock: out may be progress bars, which take
		// their own lock and give the messages back through printTo.
		fmt.Fprintf(out, "\n%s\n", msg)
		cancel()
		<-sigs
		in.mu.Lock()
		if in.exiting {
			in.mu.Unlock()
			return // the command finished first: its exit stands
		}
		in.stopping = true
		out, msg, atStop := in.out, in.stopped, in.atStop
		in.mu.Unlock()
		fmt.Fprintln(out, msg)
		for _, f := range atStop {
			f()
		}
		os.Exit(exitInterrupted)
	}()
	return ctx
}

// onStop registers f to run at a second signal, before the exit.
func (in *interrupts) onStop(f func()) {
	in.mu.Lock()
	in.atStop = append(in.atStop, f)
	in.mu.Unlock()
}

// printTo sends the messages to w until the returned function is called.
// A view made outside a command run (tests) has no interrupts.
func (in *interrupts) printTo(w io.Writer) (restore func()) {
	if in == nil {
		return func() {}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	prev := in.out
	in.out = w
	return func() {
		in.mu.Lock()
		defer in.mu.Unlock()
		in.out = prev
	}
}

// exit ends the process with the code err calls for (see exitCode).
func (in *interrupts) exit(err error) {
	in.mu.Lock()
	if in.stopping {
		in.mu.Unlock()
		select {} // the signal's goroutine is exiting the process
	}
	in.exiting = true
	received := in.received
	in.mu.Unlock()
	os.Exit(exitCode(received, err))
}
