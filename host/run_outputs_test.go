package host

import (
	"bytes"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunOutputs: what a command writes reaches the writers Run is given,
// in its order when stdout and stderr are one writer, and a process it
// leaves behind holding its output ends the wait after waitDelay.
func TestRunOutputs(t *testing.T) {
	h := NewLocal("here", "")
	t.Run("one writer for both", func(t *testing.T) {
		var out bytes.Buffer
		res, err := h.Run(t.Context(), []string{"/bin/sh", "-c", "echo a; echo b >&2; echo c; echo d >&2; exit 4"}, RunOptions{Stdout: &out, Stderr: &out})
		if err != nil || res.ExitCode != 4 {
			t.Fatalf("Run = %v, %v; want exit code 4", res, err)
		}
		if out.String() != "a\nb\nc\nd\n" {
			t.Errorf("output %q, want a to d in order", out.String())
		}
	})
	t.Run("two writers", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if _, err := h.Run(t.Context(), []string{"/bin/sh", "-c", "echo out; echo err >&2"}, RunOptions{Stdout: &stdout, Stderr: &stderr}); err != nil {
			t.Fatal(err)
		}
		if stdout.String() != "out\n" || stderr.String() != "err\n" {
			t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
		}
	})
	t.Run("left holding the output", func(t *testing.T) {
		var out syncBuffer
		start := time.Now()
		_, err := h.Run(t.Context(), []string{"/bin/sh", "-c", "sleep 30 & echo $!"}, RunOptions{Stdout: &out})
		if pid, perr := strconv.Atoi(strings.TrimSpace(out.String())); perr == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if !errors.Is(err, exec.ErrWaitDelay) {
			t.Errorf("err = %v, want exec.ErrWaitDelay", err)
		}
		if took := time.Since(start); took < waitDelay || took > waitDelay+5*time.Second {
			t.Errorf("Run took %v, want about %v", took, waitDelay)
		}
	})
}

type syncBuffer struct{ b bytes.Buffer }

func (s *syncBuffer) Write(p []byte) (int, error) {
	outMu.Lock()
	defer outMu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	outMu.Lock()
	defer outMu.Unlock()
	return s.b.String()
}
