package vm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
)

// qemuProgram is the QEMU binary for x86 guests.
const qemuProgram = "qemu-system-x86_64"

// maxSocketPath is the longest path a unix socket may be bound to.
const maxSocketPath = 107

// launchTimeout bounds how long QEMU may take to set a guest up and
// daemonize.
const launchTimeout = time.Minute

// qmpTimeout bounds connecting to a guest's QMP socket.
const qmpTimeout = 5 * time.Second

// quitTimeout bounds how long a stop waits for QEMU to exit after QMP
// quit, and again after SIGKILL.
const quitTimeout = 10 * time.Second

// kvmUsable is the probe's verdict, once per process: the machine does not
// change under a run.
var kvmUsable = sync.OnceValue(func() error { return kvmVerdict(context.Background()) })

// instance is one guest's QEMU on its host. Its pidfile and QMP socket are
// named as the machine names them: QEMU knows no host roots.
type instance struct {
	h               host.Host
	g               *guest
	pidfile, socket string
}

// openInstance opens g's host and finds g's state folder on the machine.
func openInstance(ctx context.Context, g *guest) (*instance, error) {
	h, err := g.host.OpenContext(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := h.RealPath(ctx, g.stateDir)
	if err != nil {
		h.Close()
		return nil, err
	}
	return &instance{h: h, g: g, pidfile: path.Join(dir, "qemu.pid"), socket: path.Join(dir, guestdisk.QMPSocket)}, nil
}

func (in *instance) Close() error { return in.h.Close() }

// pid returns the guest's QEMU process as its pidfile names it on the
// machine, 0 when none runs.
func (in *instance) pid(ctx context.Context) (int, error) {
	resp, err := host.Call[qemuPidRequest, qemuPidResponse](ctx, in.h, "vm.qemu_pid", qemuPidRequest{Pidfile: in.pidfile})
	return resp.Pid, err
}

// alive says whether pid is still the guest's QEMU on the machine. A
// machine that cannot be asked counts as one where it runs: no stop is
// taken for done, no second QEMU started beside it.
func (in *instance) alive(ctx context.Context, pid int) bool {
	resp, err := host.Call[qemuAliveRequest, qemuAliveResponse](ctx, in.h, "vm.qemu_alive", qemuAliveRequest{Pidfile: in.pidfile, Pid: pid})
	return err != nil || resp.Alive
}

// qmp runs commands through the guest's QMP socket on the machine and
// returns what each returned.
func (in *instance) qmp(ctx context.Context, commands ...string) ([]json.RawMessage, error) {
	resp, err := host.Call[qmpRequest, qmpResponse](ctx, in.h, "vm.qmp", qmpRequest{Socket: in.socket, Commands: commands})
	return resp.Returns, err
}

// status is what QEMU says of the guest: its run state ("running",
// "paused", "shutdown", ...) and whether KVM runs it.
func (in *instance) status(ctx context.Context) (state string, kvm bool, err error) {
	out, err := in.qmp(ctx, "query-status", "query-kvm")
	if err != nil {
		return "", false, err
	}
	return parseStatus(out[0], out[1])
}

// parseStatus reads QEMU's answers to query-status and query-kvm.
func parseStatus(status, kvm json.RawMessage) (state string, enabled bool, err error) {
	var st struct {
		Status string `json:"status"`
	}
	var k struct {
		Enabled bool `json:"enabled"`
	}
	if err := json.Unmarshal(status, &st); err != nil {
		return "", false, fmt.Errorf("QMP query-status: %w", err)
	}
	if st.Status == "" {
		return "", false, fmt.Errorf("QMP query-status: no status in %.200q", status)
	}
	if err := json.Unmarshal(kvm, &k); err != nil {
		return "", false, fmt.Errorf("QMP query-kvm: %w", err)
	}
	return st.Status, k.Enabled, nil
}

// accelerator picks QEMU's accelerator for g on h's machine; note says
// why TCG when KVM was wanted but does not work there.
func accelerator(ctx context.Context, h host.Host, g *guest) (accel, note string) {
	switch g.accelerator {
	case "kvm", "tcg":
		return g.accelerator, ""
	}
	resp, err := host.Call[kvmRequest, kvmResponse](ctx, h, "vm.kvm", kvmRequest{Probe: true})
	switch {
	case err != nil:
		return "tcg", fmt.Sprintf("TCG: KVM could not be probed (%s)", err)
	case resp.Unusable != "":
		return "tcg", fmt.Sprintf("TCG: KVM unavailable (%s)", resp.Unusable)
	}
	return "kvm", ""
}

// argv is the QEMU command line of the guest. QEMU daemonizes once the
// guest is set up (disks opened and locked, console file created and
// truncated, QMP socket listening), so a zero exit means it runs and a
// failure is on stderr.
func (in *instance) argv(accel, serial string, disks []string) []string {
	g := in.g
	argv := []string{qemuProgram,
		"-daemonize", "-pidfile", in.pidfile,
		"-qmp", "unix:" + qemuOpt(in.socket) + ",server=on,wait=off",
		"-nodefaults", "-no-user-config", "-display", "none", "-nic", "none",
		"-accel", accel,
		"-m", strconv.FormatInt(g.memoryMiB, 10), "-smp", strconv.FormatInt(g.cpus, 10),
		"-chardev", "file,id=console,path=" + qemuOpt(serial), "-serial", "chardev:console",
	}
	if g.agent {
		argv = append(argv, "-device", "virtio-serial",
			"-chardev", "socket,id=agent,path="+qemuOpt(path.Join(path.Dir(in.socket), guestdisk.AgentSocket))+",server=on,wait=off",
			"-device", "virtserialport,chardev=agent,name=org.qemu.guest_agent.0")
	}
	for i, d := range disks {
		// A .qcow2 disk is a drill's overlay of a raw image (backing
		// format raw, given in the overlay); any other is raw, never
		// probed, for a guest must not choose how its own disk is read.
		format := "raw"
		if path.Ext(d) == ".qcow2" {
			format = "qcow2"
		}
		drive := fmt.Sprintf("file=%s,format=%s,if=ide,index=%d", qemuOpt(d), format, i)
		if g.snapshot {
			drive += ",snapshot=on"
		}
		argv = append(argv, "-drive", drive)
	}
	return argv
}

// qemuOpt escapes a value inside a QEMU option list, where a comma
// separates options and two stand for one.
func qemuOpt(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// launch starts QEMU for the guest and returns its pid.
func (in *instance) launch(ctx context.Context, accel string) (int, error) {
	g := in.g
	if len(in.socket) > maxSocketPath {
		return 0, fmt.Errorf("the QMP socket path %s is longer than the %d bytes a unix socket takes; set state_dir to a shorter folder", in.socket, maxSocketPath)
	}
	var disks []string
	hostPaths := map[string]string{}
	for _, d := range g.allDisks() {
		real, err := in.h.RealPath(ctx, d)
		if err != nil {
			return 0, err
		}
		disks = append(disks, real)
		hostPaths[real] = d
	}
	if err := newConsole(ctx, in.h, g.serial); err != nil {
		return 0, err
	}
	serial, err := in.h.RealPath(ctx, g.serial)
	if err != nil {
		return 0, err
	}
	if err := in.h.MkdirAll(ctx, g.stateDir, 0o700); err != nil {
		return 0, err
	}
	in.removeRuntime(ctx)
	var out bytes.Buffer
	argv := in.argv(accel, serial, disks)
	res, err := in.h.Run(ctx, argv, host.RunOptions{Stdout: &out, Stderr: &out})
	switch {
	// Over SSH a missing program is the shell's exit status 127.
	case errors.Is(err, exec.ErrNotFound), err == nil && res.ExitCode == 127 && strings.Contains(out.String(), qemuProgram):
		return 0, fmt.Errorf("QEMU is not installed on host %q: %s was not found; install it (Debian: apt-get install qemu-system-x86)", in.h.Name(), qemuProgram)
	case err != nil:
		return 0, err
	case res.ExitCode != 0:
		return 0, qemuFailure(out.String(), res.ExitCode, hostPaths)
	}
	pid, err := in.pid(ctx)
	if err != nil {
		return 0, err
	}
	if pid == 0 {
		return 0, fmt.Errorf("QEMU reported a start but left no running process behind its pidfile %s: %s", in.pidfile, strings.TrimSpace(out.String()))
	}
	return pid, nil
}

// qemuFailure explains why QEMU did not start from what it printed;
// disks maps the machine paths of the guest's disks to the host's.
func qemuFailure(stderr string, code int, disks map[string]string) error {
	msg := strings.TrimSpace(stderr)
	if msg == "" {
		return fmt.Errorf("QEMU exited with status %d without saying why", code)
	}
	if strings.Contains(msg, `Failed to get "write" lock`) || strings.Contains(msg, `Failed to get "consistent read" lock`) ||
		strings.Contains(msg, "Failed to get shared") {
		disk := "a disk"
		for real, p := range disks {
			if strings.Contains(msg, "["+real+"]") {
				disk = "the disk " + p
			}
		}
		return fmt.Errorf("%s is in use by another process: QEMU could not lock it; stop the guest or program using it first (QEMU: %s)",
			disk, strings.Join(strings.Fields(msg), " "))
	}
	return fmt.Errorf("QEMU did not start (exit status %d): %s", code, msg)
}

// stop ends the guest's QEMU: an ACPI power-down the guest may honour
// within stop_timeout, then as end.
func (in *instance) stop(ctx context.Context) error {
	pid, err := in.pid(ctx)
	if err != nil {
		return err
	}
	if pid != 0 {
		if _, err := in.qmp(ctx, "system_powerdown"); err == nil {
			in.waitGone(ctx, pid, in.g.stopTimeout)
		}
	}
	return in.end(ctx, pid)
}

// end ends QEMU process pid (none when 0) without asking the guest: QMP
// quit, then SIGKILL, each waited for within quitTimeout; for a guest that
// failed its start, or after a power-down. The pidfile and socket go with
// it.
func (in *instance) end(ctx context.Context, pid int) error {
	if pid != 0 && in.alive(ctx, pid) {
		in.qmp(ctx, "quit")
		in.waitGone(ctx, pid, quitTimeout)
	}
	if pid != 0 && in.alive(ctx, pid) {
		if _, err := host.Call[qemuKillRequest, qemuKillResponse](ctx, in.h, "vm.qemu_kill", qemuKillRequest{Pidfile: in.pidfile, Pid: pid}); err != nil {
			return err
		}
		if !in.waitGone(ctx, pid, quitTimeout) {
			return fmt.Errorf("QEMU (pid %d) is still running after QMP quit and SIGKILL", pid)
		}
	}
	in.removeRuntime(ctx)
	// A copy killed while it held a disk left the guest's writes since
	// in an overlay: into the disk with them before anyone boots it.
	if _, err := guestdisk.CommitStopped(ctx, in.h, in.g.stateDir); err != nil {
		return err
	}
	return nil
}

// waitGone polls until the guest's process is gone, for at most d; it
// says whether it is.
func (in *instance) waitGone(ctx context.Context, pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for in.alive(ctx, pid) {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// removeRuntime removes what a QEMU that is gone left in the state folder.
func (in *instance) removeRuntime(ctx context.Context) {
	for _, p := range []string{"qemu.pid", guestdisk.QMPSocket, guestdisk.AgentSocket} {
		in.h.Remove(ctx, path.Join(in.g.stateDir, p))
	}
}
