package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
)

// terminal runs commands in tmux, a real terminal emulator, and reads its
// screen: what a person would see, after every cursor move and redraw.
type terminal struct {
	t      *testing.T
	tmux   string
	socket string
	conf   string
}

func newTerminal(t *testing.T) *terminal {
	tmux := testenv.Command(t, "tmux", "tmux")
	dir := t.TempDir()
	conf := filepath.Join(dir, "tmux.conf")
	// The screen stays readable after the command exits.
	if err := os.WriteFile(conf, []byte("set -g remain-on-exit on\nset -g history-limit 10000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, tmux: tmux, socket: filepath.Join(dir, "tmux.sock"), conf: conf}
	t.Cleanup(func() { exec.Command(tmux, "-S", term.socket, "kill-server").Run() })
	return term
}

func (term *terminal) run(args ...string) string {
	term.t.Helper()
	out, err := exec.Command(term.tmux, append([]string{"-S", term.socket, "-f", term.conf}, args...)...).CombinedOutput()
	if err != nil {
		term.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// start runs command (a shell command line) in dir, in a new session
// called name, on a screen of 150 columns.
func (term *terminal) start(name, dir, command string) {
	term.t.Helper()
	term.run("new-session", "-d", "-x", "150", "-y", "50", "-s", name, "-c", dir, command)
}

// screen is everything session name shows and scrolled past; escapes
// keeps the colour sequences.
func (term *terminal) screen(name string, escapes bool) string {
	term.t.Helper()
	args := []string{"capture-pane", "-p", "-J", "-S", "-", "-t", name}
	if escapes {
		args = append(args, "-e")
	}
	return term.run(args...)
}

// waitFor polls the screen of session name until it matches re.
func (term *terminal) waitFor(name string, re *regexp.Regexp) string {
	term.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := term.screen(name, false)
		if re.MatchString(s) {
			return s
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("the terminal never showed %s:\n%s", re, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExit polls until the command in session name has exited.
func (term *terminal) waitExit(name string) string {
	term.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for strings.TrimSpace(term.run("display-message", "-p", "-t", name, "#{pane_dead}")) != "1" {
		if time.Now().After(deadline) {
			term.t.Fatalf("the command in %s never exited:\n%s", name, term.screen(name, false))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return term.screen(name, false)
}

// TestTerminalRendering runs drover on a real terminal: status lines and
// the interrupt message stay above the progress bars instead of being
// drawn over, a bar without a known total shows what is done (no
// negative time), a blank line comes before the question, and TERM=dumb
// gets no colour.
func TestTerminalRendering(t *testing.T) {
	t.Parallel()
	bin := buildDrover(t)
	term := newTerminal(t)
	dir := t.TempDir()
	for _, name := range []string{"main.dr.hcl", "pre-failover.sh.tftpl"} {
		b, err := os.ReadFile(filepath.Join("../../examples/quickstart", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}

	term.start("ask", dir, bin+" apply")
	screen := term.waitFor("ask", regexp.MustCompile(`Enter a value:`))
	if !regexp.MustCompile(`\n\nDo you want to perform these actions\?`).MatchString(screen) {
		t.Errorf("no blank line before the question:\n%s", screen)
	}
	term.run("send-keys", "-t", "ask", "no", "Enter")
	term.waitExit("ask")

	term.start("apply", dir, bin+" apply --auto-approve")
	screen = term.waitExit("apply")
	for _, addr := range []string{`file.share_readme["data"]`, `file.share_readme["home"]`, "drive.system", "drive.backup",
		"drive_copy.backup", "replication_set.shares", "file.pre_failover"} {
		if !strings.Contains(screen, addr+": Creation complete after") {
			t.Errorf("no line says %s was created:\n%s", addr, screen)
		}
	}

	term.start("replicate", dir, bin+" replicate replication_set.shares")
	bar := regexp.MustCompile(`replication_set.shares +\[.*\] (.*)`)
	screen = term.waitFor("replicate", bar)
	if status := bar.FindStringSubmatch(screen)[1]; !strings.Contains(status, "entries") || strings.Contains(status, "-") {
		t.Errorf("the bar of a replication (no total) shows %q, want what is done so far", status)
	}
	term.run("send-keys", "-t", "replicate", "C-c")
	screen = term.waitExit("replicate")
	if !strings.Contains(screen, "Interrupt received: finishing the files being sent.") {
		t.Errorf("the interrupt message was drawn over:\n%s", screen)
	}

	term.start("colour", dir, bin+" plan")
	term.waitExit("colour")
	term.start("dumb", dir, "env TERM=dumb "+bin+" plan")
	term.waitExit("dumb")
	if s := term.screen("colour", true); !strings.Contains(s, "\x1b[") {
		t.Errorf("a terminal gets no colour:\n%q", s)
	}
	if s := term.screen("dumb", true); strings.Contains(s, "\x1b[") {
		t.Errorf("TERM=dumb gets colour:\n%q", s)
	}
}
