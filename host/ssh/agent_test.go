package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/agent"
	"github.com/drover-dr/drover/internal/agenttest"
	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/drover-dr/drover/internal/testenv"
)

func TestMain(m *testing.M) { agenttest.Main(m) }

type whoamiReq struct{ Path string }

type whoamiResp struct {
	PID  int
	Host string
	Size int64
}

func init() {
	host.RegisterOp("ssh-test.whoami", func(ctx context.Context, h host.Host, req whoamiReq) (whoamiResp, error) {
		resp := whoamiResp{PID: os.Getpid(), Host: h.Name()}
		if req.Path != "" {
			fi, err := h.Lstat(ctx, req.Path)
			if err != nil {
				return resp, err
			}
			resp.Size = fi.Size()
		}
		return resp, nil
	})
}

func whoami(t *testing.T, h host.Host, path string) whoamiResp {
	t.Helper()
	resp, err := host.Call[whoamiReq, whoamiResp](context.Background(), h, "ssh-test.whoami", whoamiReq{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// cachedAgent is where the agent of this test binary lives on the machine.
func cachedAgent(t *testing.T, opts Options) string {
	t.Helper()
	prog, err := agent.Program()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(opts.AgentCache, prog.SHA256, "drover")
}

// TestAgentInvoke runs an op on the machine, below the host's root and a
// Sub folder of it, with errors that keep their kind.
func TestAgentInvoke(t *testing.T) {
	s := sshtest.Start(t)
	h, root := rootedHost(t, s)
	ctx := context.Background()
	if err := h.WriteFile(ctx, "/srv/a", strings.NewReader("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := whoami(t, h, "/srv/a")
	if got.Host != "fs1" || got.Size != 5 || got.PID == os.Getpid() {
		t.Errorf("the op answered %+v, want host fs1, size 5, run by the agent", got)
	}
	sub, err := h.Sub(ctx, "/srv")
	if err != nil {
		t.Fatal(err)
	}
	if got := whoami(t, sub, "/a"); got.Size != 5 {
		t.Errorf("in the Sub host the op answered %+v, want size 5", got)
	}
	if err := host.CanCall(ctx, h); err != nil {
		t.Errorf("CanCall: %v", err)
	}

	_, err = host.Call[whoamiReq, whoamiResp](ctx, h, "ssh-test.whoami", whoamiReq{Path: "/missing"})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "/missing") {
		t.Errorf("a missing path: %v, want fs.ErrNotExist naming /missing", err)
	}
	// A symlink leading out of the root is refused on the machine.
	if err := os.Symlink("/etc", filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	_, err = host.Call[whoamiReq, whoamiResp](ctx, h, "ssh-test.whoami", whoamiReq{Path: "/out/passwd"})
	if !errors.Is(err, host.ErrOutsideRoot) {
		t.Errorf("through a symlink out of the root: %v, want host.ErrOutsideRoot", err)
	}
	_, err = h.Invoke(ctx, "ssh-test.nosuchop", nil)
	if err == nil || !strings.Contains(err.Error(), "no op called ssh-test.nosuchop") {
		t.Errorf("an unknown op: %v", err)
	}
}

// TestAgentCache uploads the agent once: a second connection starts the
// cached copy, which the upload made private to the user, and builds of
// other versions unused for a day are removed; one in use is kept.
func TestAgentCache(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	exe := cachedAgent(t, opts)
	old := filepath.Join(opts.AgentCache, strings.Repeat("ab", 32))
	inUse := filepath.Join(opts.AgentCache, strings.Repeat("cd", 32))
	other := filepath.Join(opts.AgentCache, "notes")
	for _, dir := range []string{old, inUse, other} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	yesterday := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(old, yesterday, yesterday); err != nil {
		t.Fatal(err)
	}

	first := connect(t, opts)
	pid1 := whoami(t, first, "").PID
	fi, err := os.Stat(exe)
	if err != nil {
		t.Fatalf("the agent is not cached where expected: %v", err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("the cached agent has mode %v, want 0700", fi.Mode().Perm())
	}
	if dfi, _ := os.Stat(filepath.Dir(exe)); dfi.Mode().Perm() != 0o700 {
		t.Errorf("the agent's folder has mode %v, want 0700", dfi.Mode().Perm())
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("another build's folder is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a folder not named by a checksum was removed: %v", err)
	}
	if _, err := os.Stat(inUse); err != nil {
		t.Errorf("another build's folder in use today was removed: %v", err)
	}
	// An mtime in the past shows whether the file is written again.
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(exe, past, past); err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := connect(t, opts)
	if pid2 := whoami(t, second, "").PID; pid2 == pid1 {
		t.Errorf("the second connection reached the first agent (pid %d)", pid1)
	}
	if fi, err := os.Stat(exe); err != nil || !fi.ModTime().Equal(past) {
		t.Errorf("the cached agent was uploaded again (mtime %v, want %v): %v", fi.ModTime(), past, err)
	}
}

// TestAgentCachedWithoutUname starts a cached agent of this build without
// asking uname first (a session costs a process on the machine): the
// upload checked the system. A cached copy that does not start is
// replaced only after uname says this build runs there; on a machine of
// another system sharing the home folder it is left for the machines it
// runs on, and the host has no agent.
func TestAgentCachedWithoutUname(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	exe := cachedAgent(t, opts)
	asked := filepath.Join(s.Dir, "uname-asked")
	uname := func(h *Host, output string) {
		h.c.uname = fmt.Sprintf("touch %s; echo %s", asked, output)
	}
	wasAsked := func() bool {
		_, err := os.Stat(asked)
		os.Remove(asked)
		return err == nil
	}
	closeAndWait := func(h *Host, pid int) {
		h.Close()
		sshtest.WaitFor(t, "the agent to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	}

	h := connect(t, opts)
	uname(h, "$(uname -sm)")
	closeAndWait(h, whoami(t, h, "").PID)
	if !wasAsked() {
		t.Error("the first connection uploaded the agent without asking uname")
	}
	want, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}

	h = connect(t, opts)
	uname(h, "$(uname -sm)")
	closeAndWait(h, whoami(t, h, "").PID)
	if wasAsked() {
		t.Error("uname was asked again although this build is cached")
	}

	// A copy that does not start, on a machine of this system: replaced.
	if err := os.WriteFile(exe, []byte("not a program\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	h = connect(t, opts)
	uname(h, "$(uname -sm)")
	closeAndWait(h, whoami(t, h, "").PID)
	if !wasAsked() {
		t.Error("a cached agent that did not start was replaced without asking uname")
	}
	if got, err := os.ReadFile(exe); err != nil || string(got) != string(want) {
		t.Errorf("the cached agent was not replaced by this build (%d bytes, want %d): %v", len(got), len(want), err)
	}

	// The same copy seen from a machine of another system: kept.
	if err := os.WriteFile(exe, []byte("runs elsewhere\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	h = connect(t, opts)
	uname(h, "Linux aarch64")
	err = host.CanCall(context.Background(), h)
	if !errors.Is(err, host.ErrNoOps) || !strings.Contains(err.Error(), `"Linux aarch64"`) {
		t.Errorf("CanCall = %v, want host.ErrNoOps naming the machine's system", err)
	}
	if got, err := os.ReadFile(exe); err != nil || string(got) != "runs elsewhere\n" {
		t.Errorf("the cached copy of a machine of another system was replaced or removed: %q, %v", got, err)
	}
}

// TestAgentCorrupted replaces a cached agent that is not this build: one
// that runs but reports another checksum, and one that does not run.
func TestAgentCorrupted(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	exe := cachedAgent(t, opts)
	// A running agent's file cannot be written (ETXTBSY): each is
	// corrupted once its agent has ended.
	closeAndWait := func(h *Host, pid int) {
		h.Close()
		sshtest.WaitFor(t, "the agent to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	}
	h := connect(t, opts)
	closeAndWait(h, whoami(t, h, "").PID)
	want, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		corrupt func() error
	}{
		{"appended to", func() error {
			f, err := os.OpenFile(exe, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			f.Write([]byte("tampered"))
			return f.Close()
		}},
		{"not a program", func() error { return os.WriteFile(exe, []byte("not a program\n"), 0o700) }},
		{"cut short", func() error { return os.Truncate(exe, 4096) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.corrupt(); err != nil {
				t.Fatal(err)
			}
			h := connect(t, opts)
			pid := whoami(t, h, "").PID
			got, err := os.ReadFile(exe)
			if err != nil || string(got) != string(want) {
				t.Errorf("the cached agent was not replaced by this build (%d bytes, want %d): %v", len(got), len(want), err)
			}
			closeAndWait(h, pid)
		})
	}
}

// TestAgentEndsWithConnection expects no agent left on the machine once
// its connection closed or dropped, and a new one after the redial.
func TestAgentEndsWithConnection(t *testing.T) {
	pgrep := testenv.Command(t, "pgrep", "procps")
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	exe := cachedAgent(t, opts)
	running := func() bool {
		// pgrep exits 1 when no process matches.
		return exec.Command(pgrep, "-f", "^"+exe).Run() == nil
	}
	gone := func(pid int) func() bool {
		return func() bool { return syscall.Kill(pid, 0) != nil }
	}

	h := connect(t, opts)
	pid := whoami(t, h, "").PID
	if !running() {
		t.Fatalf("pgrep does not see the agent %s (pid %d)", exe, pid)
	}
	h.Close()
	sshtest.WaitFor(t, "the agent to exit after Close", gone(pid))

	h = connect(t, opts)
	pid = whoami(t, h, "").PID
	// The sshd processes only: the agent must end by itself.
	for _, p := range sshdPIDs(t, s) {
		syscall.Kill(p, syscall.SIGKILL)
	}
	sshtest.WaitFor(t, "the agent to exit after the connection dropped", gone(pid))
	if running() {
		t.Error("an agent is left on the machine")
	}
	if again := whoami(t, h, "").PID; again == pid {
		t.Errorf("after the redial the op ran in the agent that should have ended (%d)", pid)
	}
}

// sshdPIDs lists the sshd processes serving s's connections, not what
// they started (an agent).
func sshdPIDs(t *testing.T, s *sshtest.Server) []int {
	var pids []int
	for _, pid := range s.ConnectionPIDs(t) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if strings.TrimSpace(string(comm)) == "sshd" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestAgentOtherSystem plays a machine of another architecture: no agent,
// and CanCall says why.
func TestAgentOtherSystem(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	h := connect(t, opts)
	h.c.uname = "echo Linux aarch64"
	err := host.CanCall(context.Background(), h)
	if !errors.Is(err, host.ErrNoOps) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("CanCall = %v, want host.ErrNoOps", err)
	}
	for _, want := range []string{`"Linux aarch64"`, "SFTP", `host "fs1"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CanCall's reason does not say %s:\n%v", want, err)
		}
	}
	if _, err := os.Stat(opts.AgentCache); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("something was uploaded: %v", err)
	}
}

// TestAgentWatch watches and trips over SSH: the agent's inotify on the
// machine. A watch ends with its context, or with the connection, saying
// the host is unreachable.
func TestAgentWatch(t *testing.T) {
	s := sshtest.Start(t)
	h, root := rootedHost(t, s)
	ctx := context.Background()
	if err := h.MkdirAll(ctx, "/w/deep", 0o755); err != nil {
		t.Fatal(err)
	}
	sub, err := h.Sub(ctx, "/w")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("watch", func(t *testing.T) {
		wctx, cancel := context.WithCancel(ctx)
		events, err := sub.Watch(wctx, "/deep")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "w/deep/f"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			if ev.Path != "/deep/f" || ev.Err != nil {
				t.Errorf("event %+v, want /deep/f", ev)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no event for a file written on the machine")
		}
		cancel()
		for range events {
		}
	})
	t.Run("tripwire", func(t *testing.T) {
		tw, err := h.Tripwire(ctx, "/w")
		if err != nil {
			t.Fatal(err)
		}
		defer tw.Close()
		entries, err := tw.ReadDirStat(ctx, "/w/deep")
		if err != nil || len(entries) != 1 || !entries[0].HasStat {
			t.Fatalf("ReadDirStat through the tripwire = %+v, %v", entries, err)
		}
		if tw.Tripped() {
			t.Fatal("tripped before any change")
		}
		if err := os.WriteFile(filepath.Join(root, "w/deep/g"), []byte("y"), 0o644); err != nil {
			t.Fatal(err)
		}
		if !tw.Tripped() {
			t.Error("not tripped by a file created in a folder it listed")
		}
	})
	t.Run("reflink", func(t *testing.T) {
		// The machine's file system decides: a clone, or
		// ErrUnsupported and nothing left behind.
		err := h.Reflink(ctx, "/w/deep/f", "/w/deep/clone")
		b, rerr := os.ReadFile(filepath.Join(root, "w/deep/clone"))
		switch {
		case err == nil && (rerr != nil || string(b) != "x"):
			t.Errorf("the clone holds %q: %v", b, rerr)
		case err != nil && !errors.Is(err, errors.ErrUnsupported):
			t.Errorf("Reflink: %v, want a clone or errors.ErrUnsupported", err)
		case err != nil && !errors.Is(rerr, fs.ErrNotExist):
			t.Errorf("a failed clone left its file: %v", rerr)
		}
	})
	t.Run("watch ends with the connection", func(t *testing.T) {
		events, err := h.Watch(ctx, "/w")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range sshdPIDs(t, s) {
			syscall.Kill(p, syscall.SIGKILL)
		}
		var last host.WatchEvent
		for ev := range events {
			last = ev
		}
		if !errors.Is(last.Err, host.ErrUnreachable) || !strings.Contains(last.Err.Error(), `host "fs1"`) {
			t.Errorf("the watch ended with %v, want host.ErrUnreachable naming the host", last.Err)
		}
	})
}

// TestAgentBlockDevice opens a loop device through the agent, which tells
// its size where SFTP says 0, and reads and writes it.
func TestAgentBlockDevice(t *testing.T) {
	losetup := testenv.Command(t, "losetup", "mount")
	s := sshtest.Start(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	const size = 3 << 20
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(losetup, "--find", "--show", img).Output()
	if err != nil {
		t.Fatalf("losetup: %v", err)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command(losetup, "--detach", dev).Run() })

	h := connect(t, options(s, "fs1"))
	ctx := context.Background()
	f, err := h.OpenFile(ctx, dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != size {
		t.Errorf("Seek to the end of %s = %d, %v; want %d", dev, end, err, size)
	}
	if _, err := f.WriteAt([]byte("sector"), 512); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 6)
	if _, err := f.ReadAt(got, 512); err != nil || string(got) != "sector" {
		t.Errorf("ReadAt = %q, %v", got, err)
	}
	if _, err := f.ReadAt(got, size-2); err != io.EOF {
		t.Errorf("ReadAt across the end: %v, want io.EOF", err)
	}
}

// TestAgentSubReplaced replaces a Sub host's folder between two Sub hosts
// of the same path: the second works in the new folder, as a local Sub
// host would, not in the one the first held open.
func TestAgentSubReplaced(t *testing.T) {
	s := sshtest.Start(t)
	h, root := rootedHost(t, s)
	ctx := context.Background()
	if err := h.MkdirAll(ctx, "/d", 0o755); err != nil {
		t.Fatal(err)
	}
	first, err := h.Sub(ctx, "/d")
	if err != nil {
		t.Fatal(err)
	}
	if err := first.WriteFile(ctx, "/f", strings.NewReader("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Still open: a provider may hold one Sub host while it makes another.
	defer first.Close()
	if err := os.Rename(filepath.Join(root, "d"), filepath.Join(root, "d.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	second, err := h.Sub(ctx, "/d")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if err := second.WriteFile(ctx, "/g", strings.NewReader("second"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "d", "g")); err != nil {
		t.Errorf("the second Sub host did not write into the new folder: %v", err)
	}
}

// TestAgentUploadRefused caches the agent where nothing may be executed (a
// noexec mount, as some homes are): no agent, CanCall says why, and the
// host works over SFTP.
func TestAgentUploadRefused(t *testing.T) {
	mount := testenv.Command(t, "mount", "mount")
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	if err := os.MkdirAll(opts.AgentCache, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mount, "-t", "tmpfs", "-o", "noexec,size=256m", "tmpfs", opts.AgentCache).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", opts.AgentCache).Run() })
	opts.Root = filepath.Join(t.TempDir(), "root")
	h := connect(t, opts)
	ctx := context.Background()
	err := host.CanCall(ctx, h)
	if !errors.Is(err, host.ErrNoOps) || !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "noexec") {
		t.Fatalf("CanCall = %v, want host.ErrNoOps saying the agent could not start, maybe for noexec", err)
	}
	if err := h.WriteFile(ctx, "/f", strings.NewReader("over SFTP"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Watch(ctx, "/"); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "exited at start") {
		t.Errorf("Watch without the agent: %v, want errors.ErrUnsupported and the reason", err)
	}
	// A new connection does not try again: each try uploads the agent.
	fi, err := os.Stat(cachedAgent(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	s.DropConnections(t)
	if err := host.CanCall(ctx, h); !errors.Is(err, host.ErrNoOps) {
		t.Errorf("CanCall after a redial = %v, want host.ErrNoOps", err)
	}
	if again, err := os.Stat(cachedAgent(t, opts)); err != nil || !again.ModTime().Equal(fi.ModTime()) {
		t.Errorf("the agent was uploaded again after a redial: %v", err)
	}
}

// TestAgentWithoutSFTP expects a host its cached agent serves to open no
// SFTP session: the agent does what the operations need, and a session
// costs the start of every connection a round trip. The cache is below the
// home folder, as by default, and the build started is kept fresh for
// removeOtherBuilds.
func TestAgentWithoutSFTP(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	exe := cachedAgent(t, opts)
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	if opts.AgentCache, err = filepath.Rel(home, opts.AgentCache); err != nil {
		t.Fatal(err)
	}
	opts.Root = filepath.Join(t.TempDir(), "root")
	sftpStarts := func() int { return strings.Count(s.Log.String(), "Starting session: subsystem 'sftp'") }

	first := connect(t, opts)
	whoami(t, first, "")
	first.Close()
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("the agent was not cached below the home folder as %s: %v", exe, err)
	}
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(filepath.Dir(exe), past, past); err != nil {
		t.Fatal(err)
	}

	before := sftpStarts()
	h := connect(t, opts)
	ctx := context.Background()
	if err := h.WriteFile(ctx, "/srv/a", strings.NewReader("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := h.Lstat(ctx, "/srv/a"); err != nil || fi.Size() != 5 {
		t.Fatalf("Lstat = %v, %v", fi, err)
	}
	if got := whoami(t, h, "/srv/a"); got.Size != 5 {
		t.Errorf("the op answered %+v, want size 5", got)
	}
	if real, err := h.RealPath(ctx, "/srv/a"); err != nil || real != filepath.Join(opts.Root, "srv/a") {
		t.Errorf("RealPath = %q, %v", real, err)
	}
	sub, err := h.Sub(ctx, "/srv")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if entries, err := sub.ReadDir(ctx, "/"); err != nil || len(entries) != 1 || entries[0].Name() != "a" || !entries[0].Type().IsRegular() {
		t.Errorf("ReadDir of the Sub host = %v, %v; want the file a", entries, err)
	}
	var out strings.Builder
	res, err := h.Run(ctx, []string{"sh", "-c", `echo "$DROVER_HOST_ROOT" && pwd`}, host.RunOptions{Dir: "/srv", Stdout: &out})
	if want := opts.Root + "\n" + filepath.Join(opts.Root, "srv") + "\n"; err != nil || res.ExitCode != 0 || out.String() != want {
		t.Errorf("Run printed %q (exit %d, %v), want %q", out.String(), res.ExitCode, err, want)
	}
	if n := sftpStarts() - before; n != 0 {
		t.Errorf("a host served by its cached agent started SFTP %d times, want none:\n%s", n, s.Log.String())
	}
	if fi, err := os.Stat(filepath.Dir(exe)); err != nil || !fi.ModTime().After(past) {
		t.Errorf("the folder of the build started was not kept fresh (mtime %v): %v", fi.ModTime(), err)
	}
}

// TestAgentUploadedAtOnce starts the agent on two connections to a machine
// whose cache does not hold this build yet, at once (two hosts of one
// machine, as two provider processes do): both upload it, and neither may
// take away the copy the other has just put in place.
func TestAgentUploadedAtOnce(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	for round := range 5 {
		opts.AgentCache = filepath.Join(s.Dir, fmt.Sprintf("agent-cache-%d", round))
		hosts := []*Host{connect(t, opts), connect(t, opts)}
		errs := make([]error, len(hosts))
		var wg sync.WaitGroup
		for i, h := range hosts {
			wg.Go(func() { errs[i] = host.CanCall(context.Background(), h) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, connection %d: %v", round, i, err)
			}
		}
		for _, h := range hosts {
			h.Close()
		}
	}
}

// TestAgentSumRecorded starts a cached agent without it reading its own
// executable: it reports the sum recorded beside it (.sum) while the file
// is as it was recorded, reads the file again when it was written in place
// (same size, same content: only its times changed), and the handshake
// still refuses a sum that is not this build's, recorded or not.
func TestAgentSumRecorded(t *testing.T) {
	s := sshtest.Start(t)
	opts := options(s, "fs1")
	exe := cachedAgent(t, opts)
	record := exe + ".sum"
	prog, err := agent.Program()
	if err != nil {
		t.Fatal(err)
	}
	start := func() {
		t.Helper()
		h := connect(t, opts)
		pid := whoami(t, h, "").PID
		h.Close()
		sshtest.WaitFor(t, "the agent to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	}
	stat := func(path string) os.FileInfo {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	recorded := func() string {
		t.Helper()
		b, err := os.ReadFile(record)
		if err != nil {
			t.Fatalf("no sum recorded beside the agent: %v", err)
		}
		return string(b)
	}

	// The first start after the upload reads the file and records it.
	start()
	if !strings.Contains(recorded(), prog.SHA256) {
		t.Fatalf("the record %q does not hold this build's sum %s", recorded(), prog.SHA256)
	}
	if mode := stat(record).Mode().Perm(); mode != 0o600 {
		t.Errorf("the record has mode %v, want 0600", mode)
	}

	t.Run("recorded", func(t *testing.T) {
		exeBefore, recBefore := stat(exe), stat(record)
		start()
		if !os.SameFile(exeBefore, stat(exe)) {
			t.Error("the cached agent was uploaded again")
		}
		if !os.SameFile(recBefore, stat(record)) {
			t.Error("the agent read its executable although its sum was recorded: the record was written again")
		}
	})

	t.Run("recorded sum of another build", func(t *testing.T) {
		other := strings.ReplaceAll(recorded(), prog.SHA256, strings.Repeat("ab", 32))
		if err := os.WriteFile(record, []byte(other), 0o600); err != nil {
			t.Fatal(err)
		}
		exeBefore := stat(exe)
		start()
		if os.SameFile(exeBefore, stat(exe)) {
			t.Error("an agent reporting another build's sum was not refused and replaced")
		}
		if !strings.Contains(recorded(), prog.SHA256) {
			t.Errorf("the new copy's sum was not recorded: %q", recorded())
		}
	})

	t.Run("written in place", func(t *testing.T) {
		content, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		other := strings.ReplaceAll(recorded(), prog.SHA256, strings.Repeat("ab", 32))
		if err := os.WriteFile(record, []byte(other), 0o600); err != nil {
			t.Fatal(err)
		}
		// The same bytes: only the file's times say it was written.
		if err := os.WriteFile(exe, content, 0o700); err != nil {
			t.Fatal(err)
		}
		exeBefore := stat(exe)
		start()
		if !os.SameFile(exeBefore, stat(exe)) {
			t.Error("the agent took the recorded sum of a file written since: it was refused and uploaded again")
		}
		if !strings.Contains(recorded(), prog.SHA256) {
			t.Errorf("the agent did not record its sum again: %q", recorded())
		}
	})
}
