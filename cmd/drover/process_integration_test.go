package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/state"
	"github.com/drover-dr/drover/state/local"
)

// built is the drover binary buildDrover built, once per test binary, in
// a folder TestMain removes at the end.
var built struct {
	once sync.Once
	dir  string
	err  error
}

// buildDrover gives t a copy of the real binary of its own (tests find
// their plugin processes by its path), built once per test run: a link
// of it takes seconds.
func buildDrover(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "drover-build"); built.err != nil {
			return
		}
		if out, err := exec.Command("go", "build", "-o", filepath.Join(built.dir, "drover"), ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	b, err := os.ReadFile(filepath.Join(built.dir, "drover"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "drover")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func droverCmd(bin, dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"--chdir=" + dir, "--no-color"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// killConfig declares n files and n values whose content names the round,
// so every round creates, updates or deletes something.
func killConfig(n int, round string) string {
	return fmt.Sprintf(`
host "h" {
  root = "root"
}

resource "file" "f" {
  count   = %d
  host    = host.h
  path    = "/data/f${count.index}"
  content = "%s ${count.index}\n"
}

resource "value" "v" {
  count = %d
  input = file.f[count.index].sha256
}
`, n, round, n)
}

// TestApplySurvivesSIGKILL kills a real `drover apply` (and its plugin
// processes) at random moments, then applies again: the state must be
// valid, every object tracked once, and the next plan empty.
func TestApplySurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	bin := buildDrover(t)
	dir := t.TempDir()
	write := func(n int, round string) {
		if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(killConfig(n, round)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := range 8 {
		write(100+200*(round%2), fmt.Sprintf("round-%d", round))
		// Kill after a random number of finished changes (0: during
		// planning), so every round dies in a different place.
		cmd := droverCmd(bin, dir, "apply", "--auto-approve", "--lock-timeout=10s")
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd.Stderr = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter, done := rng.IntN(400), 0
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			if strings.Contains(sc.Text(), " complete after ") {
				done++
			}
			if done >= killAfter {
				break
			}
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		io.Copy(io.Discard, pipe)
		cmd.Wait()
		s, err := local.New(filepath.Join(dir, local.DefaultPath)).Read(context.Background())
		if err != nil {
			t.Fatalf("round %d: state unreadable after SIGKILL: %v\n%s", round, err, out.String())
		}
		if s != nil {
			ready := 0
			for _, inst := range s.Instances {
				if inst.Status == state.Ready {
					ready++
				}
			}
			t.Logf("round %d: killed after %d changes; %d of %d objects in state ready", round, done, ready, len(s.Instances))
		}
	}
	write(150, "content")
	final := droverCmd(bin, dir, "apply", "--auto-approve", "--lock-timeout=10s")
	if out, err := final.CombinedOutput(); err != nil {
		t.Fatalf("final apply: %v\n%s", err, out)
	}
	s, err := local.New(filepath.Join(dir, local.DefaultPath)).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Instances) != 300 {
		t.Fatalf("state tracks %d objects, want 300", len(s.Instances))
	}
	for addr, inst := range s.Instances {
		if inst.Status != state.Ready {
			t.Errorf("%s is %s after the final apply", addr, inst.Status)
		}
	}
	for i := range 150 {
		b, err := os.ReadFile(filepath.Join(dir, "root", "data", fmt.Sprintf("f%d", i)))
		if err != nil || string(b) != fmt.Sprintf("content %d\n", i) {
			t.Fatalf("file f%d: %q, %v", i, b, err)
		}
	}
	// Nothing half-written stands under a real name: besides the 150 files
	// there are at most the hidden temp files of writers killed before
	// their rename (a later write or delete of the same path sweeps them).
	entries, _ := os.ReadDir(filepath.Join(dir, "root", "data"))
	visible := 0
	for _, e := range entries {
		switch {
		case !strings.HasPrefix(e.Name(), "."):
			visible++
		case !strings.Contains(e.Name(), ".drover-"):
			t.Errorf("unexpected file %s in the host folder", e.Name())
		}
	}
	if visible != 150 {
		t.Fatalf("%d files in the host folder, want 150", visible)
	}
	plan := droverCmd(bin, dir, "plan", "--detailed-exitcode")
	if out, err := plan.CombinedOutput(); err != nil {
		t.Fatalf("plan after convergence should be empty: %v\n%s", err, out)
	}
}

// TestLockContention holds the state lock in this process and runs a real
// drover against it: it fails at once naming the holder, exit code 3, and
// with --lock-timeout it gets the lock once released.
func TestLockContention(t *testing.T) {
	t.Parallel()
	bin := buildDrover(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(`resource "value" "a" { input = 1 }`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := local.New(filepath.Join(dir, local.DefaultPath))
	info := state.NewLockInfo("test holder")
	id, err := b.Lock(context.Background(), info)
	if err != nil {
		t.Fatal(err)
	}
	cmd := droverCmd(bin, dir, "apply", "--auto-approve")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitLocked {
		t.Fatalf("apply against a held lock: %v, want exit %d\n%s", err, exitLocked, out)
	}
	for _, want := range []string{"test holder", fmt.Sprint(os.Getpid()), "force-unlock"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("message does not name %q:\n%s", want, out)
		}
	}
	// A broken configuration is reported at once, not after waiting for
	// the lock (which is taken while the configuration is parsed).
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "main.dr.hcl"), []byte(`resource "value" "a" { input = }`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bb := local.New(filepath.Join(broken, local.DefaultPath))
	bid, err := bb.Lock(context.Background(), state.NewLockInfo("test holder"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err = droverCmd(bin, broken, "plan", "--lock-timeout=60s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Invalid expression") || time.Since(start) > 30*time.Second {
		t.Errorf("plan of a broken configuration against a held lock: %v after %s\n%s", err, time.Since(start), out)
	}
	bb.Unlock(bid)

	waiting := droverCmd(bin, dir, "apply", "--auto-approve", "--lock-timeout=30s")
	var wout bytes.Buffer
	waiting.Stdout, waiting.Stderr = &wout, &wout
	if err := waiting.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}
	if err := waiting.Wait(); err != nil {
		t.Fatalf("apply with --lock-timeout after release: %v\n%s", err, wout.String())
	}
}

// TestThirdPartyProvider builds examples/provider-hello (its own module),
// installs it in a plugin folder, and uses it through init, apply and
// plan; a binary changed after init is refused.
func TestThirdPartyProvider(t *testing.T) {
	t.Parallel()
	bin := buildDrover(t)
	dir := t.TempDir()
	src, err := os.ReadFile("../../examples/provider-hello/example/main.dr.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(dir, ".drover", "plugins", "example.com", "acme", "hello", "1.0.0", "drover-provider-hello")
	build := exec.Command("go", "build", "-o", plugin, ".")
	build.Dir = "../../examples/provider-hello"
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example provider: %v\n%s", err, out)
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := droverCmd(bin, dir, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("drover %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("init"); !strings.Contains(out, "example.com/acme/hello 1.0.0") {
		t.Fatalf("init did not pin the provider:\n%s", out)
	}
	if out := run("apply", "--auto-approve"); !strings.Contains(out, "1 added") {
		t.Fatalf("apply:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "out", "greeting.txt")); err != nil || string(b) != "Hello, operations team!\n" {
		t.Fatalf("greeting file: %q, %v", b, err)
	}
	if out := run("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes.") {
		t.Fatalf("plan after apply:\n%s", out)
	}
	if out := run("validate"); !strings.Contains(out, "valid") {
		t.Fatalf("validate:\n%s", out)
	}
	// The provider block passes the variable to the provider's Configure.
	if out := run("apply", "--auto-approve", "--var", "word=Good morning"); !strings.Contains(out, "1 changed") {
		t.Fatalf("apply with another greeting word:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "out", "greeting.txt")); err != nil || string(b) != "Good morning, operations team!\n" {
		t.Fatalf("greeting file after reconfiguring the provider: %q, %v", b, err)
	}
	f, err := os.OpenFile(plugin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("tampered"))
	f.Close()
	out, err := droverCmd(bin, dir, "plan").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "has changed since `drover init`") {
		t.Fatalf("a changed provider binary must be refused: %v\n%s", err, out)
	}
}
