package ssh

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/google/go-cmp/cmp"
)

func TestRun(t *testing.T) {
	s := sshtest.Start(t)
	h, root := rootedHost(t, s)
	ctx := context.Background()
	if err := h.MkdirAll(ctx, "/work dir", 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		argv       []string
		opts       host.RunOptions
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "exit code and streams", argv: []string{"sh", "-c", "echo out; echo err >&2; exit 7"},
			wantCode: 7, wantStdout: "out\n", wantStderr: "err\n"},
		{name: "arguments arrive as given", argv: []string{"printf", "[%s]", "a b", "'q'", "$HOME", "`id`", "", "-n", "x;y"},
			wantStdout: "[a b]['q'][$HOME][`id`][][-n][x;y]"},
		{name: "environment", argv: []string{"sh", "-c", `printf '%s|%s' "$GREETING" "$DROVER_HOST_ROOT"`},
			opts:       host.RunOptions{Env: []string{"GREETING=it's $me; `x`"}},
			wantStdout: "it's $me; `x`|" + root},
		{name: "folder below the root", argv: []string{"pwd"}, opts: host.RunOptions{Dir: "/work dir"},
			wantStdout: filepath.Join(root, "work dir") + "\n"},
		{name: "stdin", argv: []string{"tr", "a-z", "A-Z"}, opts: host.RunOptions{Stdin: strings.NewReader("shout")},
			wantStdout: "SHOUT"},
		{name: "missing program", argv: []string{"no-such-program-h8"}, wantCode: 127,
			wantStderr: "no-such-program-h8"},
		{name: "killed by a signal", argv: []string{"sh", "-c", "kill -KILL $$"}, wantCode: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			tt.opts.Stdout, tt.opts.Stderr = &stdout, &stderr
			res, err := h.Run(ctx, tt.argv, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", res.ExitCode, tt.wantCode, stderr.String())
			}
			if diff := cmp.Diff(tt.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || (tt.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantStderr)
			}
		})
	}
	t.Run("refused before running", func(t *testing.T) {
		for _, argv := range [][]string{nil, {""}, {"A=b"}, {"echo", "nul\x00byte"}} {
			if _, err := h.Run(ctx, argv, host.RunOptions{}); err == nil {
				t.Errorf("Run(%q) succeeded", argv)
			}
		}
		if _, err := h.Run(ctx, []string{"true"}, host.RunOptions{Env: []string{"NOEQUALS"}}); err == nil {
			t.Error("Run with an environment entry without '=' succeeded")
		}
	})
}

// TestRunTimeoutKillsRemoteGroup checks on the machine, with pgrep, that a
// command whose context ended is gone, and the child it started too.
func TestRunTimeoutKillsRemoteGroup(t *testing.T) {
	s := sshtest.Start(t)
	h := connect(t, options(s, "fs1"))
	// A number of seconds no other process sleeps, to find ours by.
	secs := strconv.Itoa(900000 + os.Getpid()%99999)
	pattern := "sleep " + secs
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := h.Run(ctx, []string{"sh", "-c", "sleep " + secs + " & sleep " + secs + "; wait"}, host.RunOptions{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Run past its timeout: %v, want context.DeadlineExceeded saying the group was killed", err)
	}
	if d := time.Since(started); d > 10*time.Second {
		t.Errorf("Run returned %v after its timeout", d)
	}
	// pgrep on the machine, through the host itself.
	var out bytes.Buffer
	res, err := h.Run(context.Background(), []string{"pgrep", "-f", "-a", pattern}, host.RunOptions{Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 1 {
		t.Errorf("pgrep on the machine found the command still running (exit %d):\n%s", res.ExitCode, out.String())
		killMatching(t, pattern)
	}
}

// killMatching kills, by pid, the processes left by a failed test.
func killMatching(t *testing.T, pattern string) {
	out, _ := exec.Command("pgrep", "-f", pattern).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
