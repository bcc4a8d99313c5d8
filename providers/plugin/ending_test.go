package plugin_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMLetsCallsFinish sends SIGTERM to a plugin process while an
// Apply runs in it: the provider is asked to stop, the Apply finishes and
// answers, and the process then exits.
func TestSIGTERMLetsCallsFinish(t *testing.T) {
	marks := t.TempDir()
	p, err := factory(t, "until-stopped", "DROVER_TEST_MARKS="+marks)()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	req := valueCreate(t, p)
	answered := make(chan bool, 1)
	go func() {
		r := p.Apply(context.Background(), req)
		answered <- !r.Diagnostics.HasErrors()
	}()

	pid := waitMark(t, marks, "running")
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-answered:
		if !ok {
			t.Error("the Apply in flight at SIGTERM failed")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the Apply in flight at SIGTERM never answered")
	}
	waitMark(t, marks, "finished")
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin process %d still runs after SIGTERM", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitMark polls for the mark file name in dir and returns the number it
// holds, if any.
func waitMark(t *testing.T, dir, name string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			n, _ := strconv.Atoi(string(b))
			return n
		}
		if !errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
			t.Fatalf("mark %s: %v", name, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
