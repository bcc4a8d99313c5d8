package guestdisk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/drover-dr/drover/host"
)

// OverlayPrefix starts the name of every overlay Hold makes in a guest's
// state folder; the device name follows: copy-ide0-hd0.qcow2.
const OverlayPrefix = "copy-"

// Socket names in the guest's state folder, as the vm provider makes
// them.
const (
	QMPSocket   = "qmp.sock"
	AgentSocket = "qga.sock"
)

// commitTimeout bounds how long a Release waits for QEMU to commit an
// overlay: what the guest wrote during the copy. A commit that takes
// longer goes on in QEMU, and the next Release finishes it.
const commitTimeout = 10 * time.Minute

// Request names one disk of a guest: host paths on the guest's host.
type Request struct {
	StateDir string
	Disk     string
	Agent    bool
	// Hypervisor is "qemu" (Drover's own QEMU, reached through the
	// state folder) or "libvirt" (the domain Domain of the libvirtd at
	// LibvirtURI); empty is "qemu".
	Hypervisor string
	LibvirtURI string
	Domain     string
}

// Probe is what a guest's QEMU says of one of its disks.
type Probe struct {
	// Running says a QEMU runs the guest (its run state is running or
	// paused: a paused guest may be continued during the copy).
	Running bool
	// Device is the disk's QEMU device, "ide0-hd0".
	Device string
	// Throwaway says QEMU writes the disk's changes elsewhere already
	// (a -snapshot overlay not of Drover's): the image does not change.
	Throwaway bool
}

// Held is a disk held still for a copy.
type Held struct {
	Device  string
	Overlay string
	// Frozen is how many file systems the guest agent froze for the
	// snapshot; FreezeFailed why it could not, when the guest has an
	// agent channel.
	Frozen       int
	FreezeFailed string
	// Recovered names an overlay an earlier, killed copy left, which
	// was committed first.
	Recovered string
}

func init() {
	host.RegisterOp("vm.disk_probe", probe)
	host.RegisterOp("vm.disk_hold", hold)
	host.RegisterOp("vm.disk_release", func(ctx context.Context, h host.Host, req Request) (struct{}, error) {
		return struct{}{}, release(ctx, h, req)
	})
}

// ProbeDisk asks the guest's QEMU, on h (the guest's host), about req's disk.
func ProbeDisk(ctx context.Context, h host.Host, req Request) (Probe, error) {
	return host.Call[Request, Probe](ctx, h, "vm.disk_probe", req)
}

// Hold holds req's disk still for a copy: see the package doc.
func Hold(ctx context.Context, h host.Host, req Request) (Held, error) {
	return host.Call[Request, Held](ctx, h, "vm.disk_hold", req)
}

// Release commits the overlay of Hold back into req's disk and removes
// it; with no overlay it does nothing.
func Release(ctx context.Context, h host.Host, req Request) error {
	_, err := host.Call[Request, struct{}](ctx, h, "vm.disk_release", req)
	return err
}

// machine is a request with the machine's paths, which QEMU names, beside
// the host's.
type machine struct {
	h        host.Host
	req      Request
	stateDir string // the state folder on the machine
	disk     string // the disk on the machine
}

func resolve(ctx context.Context, h host.Host, req Request) (*machine, error) {
	dir, err := h.RealPath(ctx, req.StateDir)
	if err != nil {
		return nil, fmt.Errorf("the guest's state folder: %w", err)
	}
	disk, err := h.RealPath(ctx, req.Disk)
	if err != nil {
		return nil, fmt.Errorf("the disk: %w", err)
	}
	return &machine{h: h, req: req, stateDir: dir, disk: disk}, nil
}

// isOverlay says whether the machine path p is one of Hold's overlays.
func (m *machine) isOverlay(p string) bool {
	return path.Dir(p) == m.stateDir && strings.HasPrefix(path.Base(p), OverlayPrefix)
}

// hostPath is the host's path of a file of the state folder.
func (m *machine) hostPath(machinePath string) string {
	return path.Join(m.req.StateDir, path.Base(machinePath))
}

// connect reaches the guest's QEMU; nil without error when none runs.
func (m *machine) connect(ctx context.Context) (*monitor, error) {
	if _, err := m.h.Lstat(ctx, path.Join(m.req.StateDir, QMPSocket)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	mon, err := dialQMP(path.Join(m.stateDir, QMPSocket))
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) {
		// A socket left by a QEMU that is gone.
		return nil, nil
	}
	return mon, err
}

// device finds the disk among the guest's block devices: the one whose
// image is the disk, or that writes over it (an overlay).
func (m *machine) device(mon *monitor) (*blockDevice, error) {
	devs, err := mon.blockDevices()
	if err != nil {
		return nil, err
	}
	var names []string
	for i, d := range devs {
		if d.Inserted == nil {
			continue
		}
		names = append(names, d.Inserted.File)
		if d.Inserted.File == m.disk || d.Inserted.Backing == m.disk {
			return &devs[i], nil
		}
	}
	return nil, fmt.Errorf("the guest's QEMU has no disk %s (its disks: %s)", m.disk, strings.Join(names, ", "))
}

func probe(ctx context.Context, h host.Host, req Request) (Probe, error) {
	if req.Hypervisor == "libvirt" {
		return probeLibvirt(ctx, h, req)
	}
	m, err := resolve(ctx, h, req)
	if err != nil {
		return Probe{}, err
	}
	mon, err := m.connect(ctx)
	if err != nil || mon == nil {
		return Probe{}, err
	}
	defer mon.Close()
	st, err := mon.runState()
	if err != nil {
		return Probe{}, err
	}
	if st != "running" && st != "paused" {
		return Probe{}, nil
	}
	d, err := m.device(mon)
	if err != nil {
		return Probe{}, err
	}
	return Probe{Running: true, Device: d.Device,
		Throwaway: d.Inserted.File != m.disk && !m.isOverlay(d.Inserted.File)}, nil
}

func hold(ctx context.Context, h host.Host, req Request) (Held, error) {
	if req.Hypervisor == "libvirt" {
		return holdLibvirt(ctx, h, req)
	}
	m, err := resolve(ctx, h, req)
	if err != nil {
		return Held{}, err
	}
	mon, err := m.connect(ctx)
	if err != nil {
		return Held{}, err
	}
	if mon == nil {
		return Held{}, errors.New("the guest is not running: no QEMU answers on its QMP socket")
	}
	defer mon.Close()
	d, err := m.device(mon)
	if err != nil {
		return Held{}, err
	}
	held := Held{Device: d.Device}
	switch {
	case m.isOverlay(d.Inserted.File):
		if err := m.commit(ctx, mon, d); err != nil {
			return Held{}, fmt.Errorf("committing the overlay %s an interrupted copy left: %w", m.hostPath(d.Inserted.File), err)
		}
		held.Recovered = m.hostPath(d.Inserted.File)
	case d.Inserted.File != m.disk:
		return Held{}, fmt.Errorf("QEMU writes the guest's changes to %s, not to %s: the disk does not change and needs no snapshot", d.Inserted.File, req.Disk)
	}
	overlay := path.Join(m.stateDir, OverlayPrefix+d.Device+".qcow2")
	if _, err := h.Lstat(ctx, m.hostPath(overlay)); err == nil {
		return Held{}, fmt.Errorf("%s, an overlay of an earlier copy, is there although the guest does not write to it: it may hold writes %s lacks. "+
			"Stop the guest with Drover (which commits it into the disk) or, if the guest was started from the disk since, delete it", m.hostPath(overlay), req.Disk)
	}
	var a *agent
	if req.Agent {
		if a, err = dialAgent(path.Join(m.stateDir, AgentSocket)); err == nil {
			defer a.Close()
			held.Frozen, err = a.freeze()
		}
		if err != nil {
			held.FreezeFailed, a = err.Error(), nil
		}
	}
	err = m.paused(mon, func() error {
		return mon.run("blockdev-snapshot-sync", map[string]any{
			"device": d.Device, "snapshot-file": overlay, "format": "qcow2", "mode": "absolute-paths"}, nil)
	})
	if a != nil {
		// Thawed at once: the guest's writes go to the overlay now.
		err = errors.Join(err, a.thaw())
	}
	if err != nil {
		return Held{}, errors.Join(err, m.undo(ctx, mon, overlay))
	}
	held.Overlay = m.hostPath(overlay)
	return held, nil
}

// undo puts a failed Hold back: commits the overlay if QEMU writes to it,
// else removes the file if QEMU made it.
func (m *machine) undo(ctx context.Context, mon *monitor, overlay string) error {
	d, err := m.device(mon)
	if err != nil {
		return err
	}
	if d.Inserted.File == overlay {
		return m.commit(ctx, mon, d)
	}
	if err := m.h.Remove(ctx, m.hostPath(overlay)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func release(ctx context.Context, h host.Host, req Request) error {
	if req.Hypervisor == "libvirt" {
		return releaseLibvirt(ctx, h, req)
	}
	m, err := resolve(ctx, h, req)
	if err != nil {
		return err
	}
	mon, err := m.connect(ctx)
	if err != nil {
		return err
	}
	if mon == nil {
		// QEMU is gone: its overlay is a file to commit.
		_, err := CommitStopped(ctx, h, req.StateDir)
		return err
	}
	defer mon.Close()
	d, err := m.device(mon)
	if err != nil {
		return err
	}
	if !m.isOverlay(d.Inserted.File) {
		return nil
	}
	return m.commit(ctx, mon, d)
}

// commit merges the overlay device d writes to into the image below it,
// moves the guest back onto that image and removes the overlay. Failed or
// cut short, it leaves the guest writing to the overlay (nothing is
// lost), and the next Hold or Release finishes it.
func (m *machine) commit(ctx context.Context, mon *monitor, d *blockDevice) (err error) {
	overlay := d.Inserted.File
	id := "drover-commit-" + d.Device
	j, err := mon.job(id)
	if err != nil {
		return err
	}
	if j == nil {
		if err := mon.run("block-commit", map[string]any{"device": d.Device, "job-id": id}, nil); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	completing := false
	for {
		j, err := mon.job(id)
		if err != nil {
			return err
		}
		if j == nil {
			break
		}
		if j.Ready && !completing {
			// The guest is paused from the switch back to the image
			// until the job is gone, for the reason paused gives.
			cont, err := m.pause(mon)
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, cont()) }()
			if err := mon.run("block-job-complete", map[string]any{"device": id}, nil); err != nil {
				return err
			}
			completing = true
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the commit of %s into %s goes on in QEMU (%d of %d bytes): %w; the next copy finishes it",
				m.hostPath(overlay), d.Inserted.Backing, j.Offset, j.Len, context.Cause(ctx))
		case <-tick.C:
		}
	}
	after, err := m.device(mon)
	if err != nil {
		return err
	}
	if after.Inserted.File != d.Inserted.Backing {
		return fmt.Errorf("the commit of %s ended, but QEMU still writes to %s: the overlay is kept, with every write of the guest", m.hostPath(overlay), after.Inserted.File)
	}
	if err := m.h.Remove(ctx, m.hostPath(overlay)); err != nil {
		return fmt.Errorf("the guest writes to its disk again, but its committed overlay stays: %w", err)
	}
	return nil
}

// pause stops the guest's CPUs, which drains its disk requests in flight,
// and returns what continues them; a guest paused already stays so. QEMU
// 7.2 aborts (an assertion in block/io.c) when a guest write is in flight
// as a snapshot or the end of a commit changes which image is written:
// the guest is paused for those few milliseconds. A Drover killed inside
// them leaves the guest paused; the vm provider's next start of it
// continues it.
func (m *machine) pause(mon *monitor) (cont func() error, err error) {
	st, err := mon.runState()
	if err != nil {
		return nil, err
	}
	if st != "running" {
		return func() error { return nil }, nil
	}
	if err := mon.run("stop", nil, nil); err != nil {
		return nil, err
	}
	return func() error { return mon.run("cont", nil, nil) }, nil
}

// paused runs fn with the guest paused (see pause).
func (m *machine) paused(mon *monitor, fn func() error) error {
	cont, err := m.pause(mon)
	if err != nil {
		return err
	}
	return errors.Join(fn(), cont())
}

// CommitStopped commits, with qemu-img, the overlays Hold left in the
// state folder stateDir (a host path on h) of a guest no QEMU runs, into
// their disks, and removes them; it returns the host paths of those it
// committed. The vm provider calls it before it starts a guest and after
// it stops one, so that no write a guest made during a copy is lost when
// the copy was killed.
func CommitStopped(ctx context.Context, h host.Host, stateDir string) ([]string, error) {
	entries, err := h.ReadDir(ctx, stateDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var done []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), OverlayPrefix) || !e.Type().IsRegular() {
			continue
		}
		p := path.Join(stateDir, e.Name())
		if err := commitFile(ctx, h, p); err != nil {
			return done, err
		}
		done = append(done, p)
	}
	return done, nil
}

// commitFile commits the overlay p (a host path) into its backing file
// with qemu-img and removes it.
func commitFile(ctx context.Context, h host.Host, p string) error {
	real, err := h.RealPath(ctx, p)
	if err != nil {
		return err
	}
	var out strings.Builder
	res, err := h.Run(ctx, []string{"qemu-img", "commit", "-q", "-f", "qcow2", real}, host.RunOptions{Stdout: &out, Stderr: &out})
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("qemu-img commit exited with status %d: %s", res.ExitCode, strings.TrimSpace(out.String()))
	}
	if err != nil {
		return fmt.Errorf("committing %s, the overlay of an interrupted copy, into its disk: %w", p, err)
	}
	return h.Remove(ctx, p)
}

// CommitBeside commits, with qemu-img, the overlay a killed copy of a
// libvirt guest's disk left beside disk (a host path on h) into it, and
// removes it; QEMU must be gone. It says whether there was one.
func CommitBeside(ctx context.Context, h host.Host, disk string) (bool, error) {
	p := path.Join(path.Dir(disk), "."+OverlayPrefix+path.Base(disk)+".qcow2")
	if _, err := h.Lstat(ctx, p); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return true, commitFile(ctx, h, p)
}
