package guestdisk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers/builtin/vm/bootsector"
)

// diskSectors is the counter guest's disk: 4 MiB.
const diskSectors = 8192

// guest is a QEMU running the counter guest, started as the vm provider
// starts one (a daemon with a pidfile and a QMP socket in its state
// folder), with a guest agent channel no agent answers on.
type guest struct {
	t        *testing.T
	h        host.Host
	dir      string // the state folder, also the host's root
	disk     string // the disk, a host path
	pid      int
	req      Request
	consoleF string
}

func startGuest(t *testing.T) *guest { return startGuestWith(t, true) }

// startGuestWith starts the counter guest, with QEMU's guest agent
// channel on the agent socket or without it (the socket is free for an
// agent run on this machine).
func startGuestWith(t *testing.T, agentChannel bool) *guest {
	t.Helper()
	testenv.Command(t, "qemu-system-x86_64", "qemu-system-x86")
	testenv.Command(t, "qemu-img", "qemu-utils")
	dir, err := os.MkdirTemp("", "gd")
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.Config{Name: "fs1", Root: dir}.Open()
	if err != nil {
		t.Fatal(err)
	}
	g := &guest{t: t, h: h, dir: dir, disk: "/fs1.img", consoleF: filepath.Join(dir, "console"),
		req: Request{StateDir: "/", Disk: "/fs1.img", Agent: true}}
	sector, err := bootsector.Counter("COUNTER READY", diskSectors)
	if err != nil {
		t.Fatal(err)
	}
	img := append(sector, make([]byte, (diskSectors-1)*bootsector.Size)...)
	if err := os.WriteFile(filepath.Join(dir, "fs1.img"), img, 0o600); err != nil {
		t.Fatal(err)
	}
	argv := []string{"-daemonize", "-pidfile", filepath.Join(dir, "qemu.pid"),
		"-qmp", "unix:" + filepath.Join(dir, QMPSocket) + ",server=on,wait=off",
		"-nodefaults", "-no-user-config", "-display", "none", "-nic", "none", "-accel", "tcg", "-m", "16",
		"-chardev", "file,id=console,path=" + g.consoleF, "-serial", "chardev:console",
		"-drive", "file=" + filepath.Join(dir, "fs1.img") + ",format=raw,if=ide,index=0"}
	if agentChannel {
		argv = append(argv, "-device", "virtio-serial",
			"-chardev", "socket,id=qga,path="+filepath.Join(dir, AgentSocket)+",server=on,wait=off",
			"-device", "virtserialport,chardev=qga,name=org.qemu.guest_agent.0")
	}
	out, err := exec.Command("qemu-system-x86_64", argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("QEMU: %v: %s", err, out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "qemu.pid"))
	if g.pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		t.Fatalf("QEMU's pidfile: %v", err)
	}
	t.Cleanup(func() {
		syscall.Kill(g.pid, syscall.SIGKILL)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if syscall.Kill(g.pid, 0) != nil {
				break
			}
		}
		h.Close()
		os.RemoveAll(dir)
	})
	g.waitFor("the guest to boot", func() bool {
		c, _ := os.ReadFile(g.consoleF)
		return bytes.Contains(c, []byte("COUNTER READY"))
	})
	first := g.baseCount()
	g.waitFor("the guest to write", func() bool { return g.baseCount() > first+50 })
	return g
}

// waitFor polls cond for at most a minute.
func (g *guest) waitFor(what string, cond func() bool) {
	g.t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			c, _ := os.ReadFile(g.consoleF)
			g.t.Fatalf("waited a minute for %s; console: %q", what, c)
		}
	}
}

// baseCount is the count in the disk image's first sector.
func (g *guest) baseCount() uint32 {
	f, err := os.Open(filepath.Join(g.dir, "fs1.img"))
	if err != nil {
		g.t.Fatal(err)
	}
	defer f.Close()
	var b [4]byte
	f.ReadAt(b[:], bootsector.CounterFirst*bootsector.Size)
	return binary.LittleEndian.Uint32(b[:])
}

// slowCopy reads the disk image front to back in 64 KiB pieces and, after
// each, lets the guest write once more: a copy of a large disk, which
// takes longer than the guest's writes.
func (g *guest) slowCopy(progress func() uint32) []byte {
	g.t.Helper()
	f, err := os.Open(filepath.Join(g.dir, "fs1.img"))
	if err != nil {
		g.t.Fatal(err)
	}
	defer f.Close()
	var out []byte
	buf := make([]byte, 64<<10)
	for off := int64(0); off < diskSectors*bootsector.Size; off += int64(len(buf)) {
		n, err := f.ReadAt(buf, off)
		if err != nil && n < len(buf) {
			g.t.Fatal(err)
		}
		out = append(out, buf...)
		before := progress()
		g.waitFor("the guest to write on", func() bool { return progress() > before })
	}
	return out
}

// qmp runs one command on the guest's QEMU and decodes what it returns.
func (g *guest) qmp(command string, out any) {
	g.t.Helper()
	mon, err := dialQMP(filepath.Join(g.dir, QMPSocket))
	if err != nil {
		g.t.Fatal(err)
	}
	defer mon.Close()
	if err := mon.run(command, nil, out); err != nil {
		g.t.Fatal(err)
	}
}

// onImage fails the test unless QEMU writes to the disk image itself, no
// overlay above it (query-block).
func (g *guest) onImage() {
	g.t.Helper()
	var devs []blockDevice
	g.qmp("query-block", &devs)
	for _, d := range devs {
		if d.Inserted != nil && d.Inserted.File == filepath.Join(g.dir, "fs1.img") && d.Inserted.Backing == "" {
			return
		}
	}
	g.t.Fatalf("QEMU does not write to the disk image itself: %+v", devs)
}

func (g *guest) running() {
	g.t.Helper()
	var st struct{ Status string }
	g.qmp("query-status", &st)
	if st.Status != "running" {
		g.t.Fatalf("the guest is %s, not running", st.Status)
	}
}

func (g *guest) overlays() []string {
	m, _ := filepath.Glob(filepath.Join(g.dir, OverlayPrefix+"*"))
	return m
}

func TestHoldGivesOneMoment(t *testing.T) {
	g := startGuest(t)
	ctx := t.Context()

	t.Run("without a hold the copy is torn", func(t *testing.T) {
		torn := g.slowCopy(g.baseCount)
		if c, err := bootsector.Counts(torn); err == nil {
			t.Fatalf("a copy of the running guest's disk, read while it wrote, holds one moment (%+v): the test proves nothing", c)
		}
	})

	p, err := ProbeDisk(ctx, g.h, g.req)
	if err != nil || !p.Running || p.Device != "ide0-hd0" || p.Throwaway {
		t.Fatalf("ProbeDisk = %+v, %v", p, err)
	}
	held, err := Hold(ctx, g.h, g.req)
	if err != nil {
		t.Fatal(err)
	}
	if held.Overlay != "/copy-ide0-hd0.qcow2" || held.FreezeFailed == "" || held.Frozen != 0 {
		t.Errorf("Hold = %+v; want the overlay in the state folder and a freeze that failed (no agent runs in the guest)", held)
	}
	atHold := g.baseCount()
	copied := g.slowCopy(func() uint32 {
		// The guest's writes, as QEMU counts them: the image no
		// longer shows them.
		var stats []struct {
			Stats struct {
				Writes uint32 `json:"wr_operations"`
			} `json:"stats"`
		}
		g.qmp("query-blockstats", &stats)
		return stats[0].Stats.Writes
	})
	c, err := bootsector.Counts(copied)
	if err != nil {
		t.Fatalf("the copy under a hold does not hold one moment: %v", err)
	}
	if c.First != atHold {
		t.Errorf("the copy holds count %d, the image had %d when held", c.First, atHold)
	}
	if err := Release(ctx, g.h, g.req); err != nil {
		t.Fatal(err)
	}
	g.running()
	g.onImage()
	if o := g.overlays(); len(o) > 0 {
		t.Errorf("overlays left: %v", o)
	}
	// Every write the guest made while held is in the image now.
	g.qmp("stop", nil)
	b, err := os.ReadFile(filepath.Join(g.dir, "fs1.img"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := bootsector.Counts(b)
	if err != nil {
		t.Fatalf("the disk after the release: %v", err)
	}
	if after.First < atHold+diskSectors/128 {
		t.Errorf("the disk reaches count %d after the release; the guest counted from %d for %d pieces of the copy", after.First, atHold, diskSectors/128)
	}
	g.qmp("cont", nil)
}

// TestMain lets the test binary play a copy that holds a disk and is
// killed (TestKilledCopy), and a guest agent (agent_test.go).
func TestMain(m *testing.M) {
	if dir := os.Getenv("GUESTDISK_HOLD_ROOT"); dir != "" {
		os.Exit(holdProcess(dir))
	}
	if dev := os.Getenv("GUESTDISK_AGENT_LOOP"); dev != "" {
		os.Exit(agentProcess(dev, os.Getenv("GUESTDISK_AGENT_ROOT")))
	}
	os.Exit(m.Run())
}

// holdProcess holds the disk of the guest whose folder is dir, says so
// and waits for good.
func holdProcess(dir string) int {
	h, err := host.Config{Name: "fs1", Root: dir}.Open()
	if err == nil {
		_, err = Hold(context.Background(), h, Request{StateDir: "/", Disk: "/fs1.img"})
	}
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	os.Stdout.WriteString("HELD\n")
	select {}
}

func TestKilledCopy(t *testing.T) {
	for _, tc := range []struct {
		name string
		// then puts the disk back after the copy was killed: the next
		// copy's Hold, or a stop of the guest.
		then func(g *guest) error
	}{
		{"next copy", func(g *guest) error {
			held, err := Hold(g.t.Context(), g.h, g.req)
			if err == nil && held.Recovered != "/copy-ide0-hd0.qcow2" {
				g.t.Errorf("Hold = %+v, want the killed copy's overlay recovered", held)
			}
			if err == nil {
				err = Release(g.t.Context(), g.h, g.req)
			}
			g.running()
			g.onImage()
			g.qmp("stop", nil)
			return err
		}},
		{"guest stopped", func(g *guest) error {
			g.qmp("quit", nil)
			g.waitFor("QEMU to quit", func() bool { return syscall.Kill(g.pid, 0) != nil })
			done, err := CommitStopped(g.t.Context(), g.h, "/")
			if err == nil && (len(done) != 1 || done[0] != "/copy-ide0-hd0.qcow2") {
				g.t.Errorf("CommitStopped = %v", done)
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startGuest(t)
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "GUESTDISK_HOLD_ROOT="+g.dir)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			for sc.Scan() && sc.Text() != "HELD" {
			}
			atKill := g.baseCount()
			// The guest writes on, to the overlay, while the copy is
			// killed.
			g.waitFor("the guest to write to the overlay", func() bool {
				fi, err := os.Stat(filepath.Join(g.dir, "copy-ide0-hd0.qcow2"))
				return err == nil && fi.Size() > 1<<20
			})
			cmd.Process.Kill()
			cmd.Wait()
			g.running()
			if err := tc.then(g); err != nil {
				t.Fatal(err)
			}
			if o := g.overlays(); len(o) > 0 {
				t.Errorf("overlays left: %v", o)
			}
			b, err := os.ReadFile(filepath.Join(g.dir, "fs1.img"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := bootsector.Counts(b)
			if err != nil {
				t.Fatalf("the disk after the killed copy: %v", err)
			}
			if c.First <= atKill {
				t.Errorf("the disk reaches count %d, no further than when the copy was killed (%d): the writes since are lost", c.First, atKill)
			}
		})
	}
}

// A real guest agent (qemu-ga, run on this machine on the guest's agent
// socket) that refuses to freeze: the hold goes on crash-consistent and
// says why in the agent's words. qemu-ga's freeze itself is not let run:
// here it would freeze this machine's file systems.
func TestHoldAgentRefusesFreeze(t *testing.T) {
	ga := testenv.Command(t, "qemu-ga", "qemu-guest-agent")
	g := startGuestWith(t, false)
	cmd := exec.Command(ga, "-m", "unix-listen", "-p", filepath.Join(g.dir, AgentSocket),
		"-b", "guest-fsfreeze-freeze,guest-fsfreeze-thaw", "-f", filepath.Join(g.dir, "qga.pid"), "-t", g.dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	g.waitFor("qemu-ga to listen", func() bool {
		_, err := os.Stat(filepath.Join(g.dir, AgentSocket))
		return err == nil
	})
	held, err := Hold(t.Context(), g.h, g.req)
	if err != nil {
		t.Fatal(err)
	}
	defer Release(context.WithoutCancel(t.Context()), g.h, g.req)
	if !strings.Contains(held.FreezeFailed, "guest-fsfreeze-freeze has been disabled") {
		t.Errorf("Hold = %+v; want the agent's refusal to freeze", held)
	}
	if held.Overlay == "" {
		t.Errorf("Hold = %+v: no snapshot", held)
	}
}
