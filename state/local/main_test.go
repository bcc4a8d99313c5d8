package local

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/addrs"
	"github.com/drover-dr/drover/state"
	"github.com/zclconf/go-cty/cty"
)

// The test binary doubles as the helper process for tests that need a
// second process: run with helperEnv set, it plays that role instead of
// running tests.
const (
	helperEnv = "DROVER_LOCAL_TEST_HELPER"
	stateEnv  = "DROVER_LOCAL_TEST_STATE"
	argEnv    = "DROVER_LOCAL_TEST_ARG"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		if err := runHelper(role, os.Getenv(stateEnv), os.Getenv(argEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runHelper(role, path, arg string) error {
	switch role {
	case "hold":
		return holdLock(path)
	case "journal":
		start, err := strconv.Atoi(arg)
		if err != nil {
			return err
		}
		return recordForever(path, start)
	}
	return fmt.Errorf("unknown role %q", role)
}

// holdLock takes the lock for "apply", says "locked <id>", and unlocks
// when a line (or EOF) comes on stdin.
func holdLock(path string) error {
	b := New(path)
	id, err := b.Lock(context.Background(), state.NewLockInfo("apply"))
	if err != nil {
		return err
	}
	fmt.Printf("locked %s\n", id)
	bufio.NewReader(os.Stdin).ReadString('\n')
	if err := b.Unlock(id); err != nil {
		return err
	}
	fmt.Println("unlocked")
	return nil
}

// counterRes is the resource the journal helper records instances of.
var counterRes = addrs.Resource{Mode: addrs.Managed, Type: "value", Name: "n"}

func counterInstance(i int, status state.Status) *state.Instance {
	return &state.Instance{Addr: counterRes.Instance(addrs.IntK(i)), Provider: "core", Status: status,
		Attrs: cty.ObjectVal(map[string]cty.Value{"n": cty.NumberIntVal(int64(i)), "label": cty.StringVal("instance " + strconv.Itoa(i))})}
}

// recordForever applies like the executor does, from four goroutines:
// each instance is recorded pending, then ready, and its number is printed
// once the ready record returned. Every 400 instances the state is
// committed and a new journal begun. It runs until killed.
func recordForever(path string, start int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b := New(path)
	if _, err := b.Lock(ctx, state.NewLockInfo("apply")); err != nil {
		return err
	}
	s, err := b.Read(ctx)
	if err != nil {
		return err
	}
	j, err := b.Journal(ctx, s)
	if err != nil {
		return err
	}
	var (
		journalMu sync.RWMutex // held to record, taken whole to commit
		stateMu   sync.Mutex
		outMu     sync.Mutex
		next      atomic.Int64
	)
	next.Store(int64(start))
	record := func(e state.JournalEntry) error {
		if err := j.Record(e); err != nil {
			return err
		}
		stateMu.Lock()
		defer stateMu.Unlock()
		return s.Replay(e)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				i := int(next.Add(1) - 1)
				journalMu.RLock()
				err := record(state.JournalEntry{Set: counterInstance(i, state.Pending)})
				if err == nil {
					err = record(state.JournalEntry{Set: counterInstance(i, state.Ready)})
				}
				journalMu.RUnlock()
				if err != nil {
					errs <- err
					return
				}
				outMu.Lock()
				fmt.Printf("%d\n", i)
				outMu.Unlock()
				if (i-start)%400 == 399 {
					journalMu.Lock()
					err := j.Commit(ctx, s)
					if err == nil {
						j, err = b.Journal(ctx, s)
					}
					journalMu.Unlock()
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	return <-errs
}

// helper is a running helper process.
type helper struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr bytes.Buffer
}

func startHelper(t *testing.T, role, path, arg string) *helper {
	t.Helper()
	h := &helper{cmd: exec.Command(os.Args[0], "-test.run=^$"), lines: make(chan string, 1<<16)}
	h.cmd.Env = append(os.Environ(), helperEnv+"="+role, stateEnv+"="+path, argEnv+"="+arg)
	h.cmd.Stderr = &h.stderr
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	// A pipe of our own rather than StdoutPipe: it is read to its end,
	// which comes when the helper dies, before Wait.
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	h.cmd.Stdout = w
	err = h.cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer out.Close()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		if h.cmd.ProcessState == nil {
			h.cmd.Process.Kill()
			h.cmd.Wait()
		}
	})
	return h
}

// next returns the helper's next line, failing the test if none comes
// within the deadline.
func (h *helper) next(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-h.lines:
		if !ok {
			h.cmd.Wait()
			t.Fatalf("helper ended (%v): %s", h.cmd.ProcessState, h.stderr.String())
		}
		return line
	case <-time.After(30 * time.Second):
		t.Fatalf("no line from the helper within 30s; stderr: %s", h.stderr.String())
	}
	return ""
}

// kill ends the helper with SIGKILL and returns the lines it wrote
// before it died.
func (h *helper) kill(t *testing.T) []string {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for line := range h.lines {
		rest = append(rest, line)
	}
	h.cmd.Wait()
	return rest
}
