package guestdisk

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/drover-dr/drover/host"
)

// A libvirt guest's disk is held through libvirt's own API, so that
// libvirt knows the overlay (its live and persistent definitions name
// it until the commit pivots back): a disk-only external snapshot without
// metadata, an active block commit, a pivot. The overlay lies beside the
// disk, where libvirt's QEMU, running as libvirt's user, can reach it;
// the file systems are frozen through libvirt's agent API.

// libvirtOverlay is the overlay of a libvirt guest's disk: beside it (as
// CommitBeside finds it).
func libvirtOverlay(disk string) string {
	return path.Join(path.Dir(disk), "."+OverlayPrefix+path.Base(disk)+".qcow2")
}

// libvirtDomain is a connection to a guest's libvirt domain.
type libvirtDomain struct {
	lv   *libvirt.Libvirt
	dom  libvirt.Domain
	name string
}

func dialLibvirt(req Request) (*libvirtDomain, error) {
	u, err := url.Parse(req.LibvirtURI)
	if err != nil {
		return nil, fmt.Errorf("libvirt URI %q: %w", req.LibvirtURI, err)
	}
	lv, err := libvirt.ConnectToURI(u)
	if err != nil {
		return nil, fmt.Errorf("libvirt %s: %w", req.LibvirtURI, err)
	}
	dom, err := lv.DomainLookupByName(req.Domain)
	if err != nil {
		lv.Disconnect()
		return nil, fmt.Errorf("libvirt domain %q: %w", req.Domain, err)
	}
	return &libvirtDomain{lv: lv, dom: dom, name: req.Domain}, nil
}

func (d *libvirtDomain) Close() error { return d.lv.Disconnect() }

// state is the domain's state in vm_guest's words: running, paused, other.
func (d *libvirtDomain) state() (string, error) {
	st, _, err := d.lv.DomainGetState(d.dom, 0)
	if err != nil {
		return "", fmt.Errorf("libvirt domain %q: %w", d.name, err)
	}
	switch libvirt.DomainState(st) {
	case libvirt.DomainRunning, libvirt.DomainBlocked:
		return "running", nil
	case libvirt.DomainPaused:
		return "paused", nil
	}
	return "stopped", nil
}

// libvirtDisk is a disk of a domain's XML: its target and the image it
// writes to over the one below.
type libvirtDisk struct {
	Target, File, Backing string
}

// disk finds machineDisk in the domain's live (or, inactive, persistent)
// definition: the disk whose image it is or that writes over it.
func (d *libvirtDomain) disk(machineDisk string, inactive bool) (*libvirtDisk, error) {
	var flags libvirt.DomainXMLFlags
	if inactive {
		flags = libvirt.DomainXMLInactive
	}
	desc, err := d.lv.DomainGetXMLDesc(d.dom, flags)
	if err != nil {
		return nil, fmt.Errorf("libvirt domain %q: %w", d.name, err)
	}
	var dx struct {
		Disks []struct {
			Source struct {
				File string `xml:"file,attr"`
			} `xml:"source"`
			Backing *struct {
				Source struct {
					File string `xml:"file,attr"`
				} `xml:"source"`
			} `xml:"backingStore"`
			Target struct {
				Dev string `xml:"dev,attr"`
			} `xml:"target"`
		} `xml:"devices>disk"`
	}
	if err := xml.Unmarshal([]byte(desc), &dx); err != nil {
		return nil, fmt.Errorf("libvirt domain %q: %w", d.name, err)
	}
	var names []string
	for _, x := range dx.Disks {
		ld := &libvirtDisk{Target: x.Target.Dev, File: x.Source.File}
		if x.Backing != nil {
			ld.Backing = x.Backing.Source.File
		}
		if ld.File == machineDisk || ld.File == libvirtOverlay(machineDisk) {
			if ld.Backing == "" && ld.File != machineDisk {
				// The persistent definition names no backing file.
				ld.Backing = machineDisk
			}
			return ld, nil
		}
		names = append(names, ld.File)
	}
	return nil, fmt.Errorf("libvirt domain %q has no disk %s (its disks: %s)", d.name, machineDisk, strings.Join(names, ", "))
}

func probeLibvirt(ctx context.Context, h host.Host, req Request) (Probe, error) {
	disk, err := h.RealPath(ctx, req.Disk)
	if err != nil {
		return Probe{}, fmt.Errorf("the disk: %w", err)
	}
	d, err := dialLibvirt(req)
	if err != nil {
		return Probe{}, err
	}
	defer d.Close()
	st, err := d.state()
	if err != nil {
		return Probe{}, err
	}
	ld, err := d.disk(disk, st == "stopped")
	if err != nil {
		return Probe{}, err
	}
	if st == "stopped" {
		if ld.File != disk {
			return Probe{}, fmt.Errorf("the libvirt domain %q is shut off and boots %s, the overlay of a copy that was killed: its disk %s lacks what the guest wrote since. "+
				"Start the guest: the next copy commits the overlay into the disk", d.name, ld.File, req.Disk)
		}
		return Probe{}, nil
	}
	return Probe{Running: true, Device: ld.Target, Throwaway: ld.File != disk && ld.File != libvirtOverlay(disk)}, nil
}

func holdLibvirt(ctx context.Context, h host.Host, req Request) (Held, error) {
	disk, err := h.RealPath(ctx, req.Disk)
	if err != nil {
		return Held{}, fmt.Errorf("the disk: %w", err)
	}
	d, err := dialLibvirt(req)
	if err != nil {
		return Held{}, err
	}
	defer d.Close()
	if st, err := d.state(); err != nil || st == "stopped" {
		return Held{}, errors.Join(err, fmt.Errorf("the libvirt domain %q is not running", d.name))
	}
	ld, err := d.disk(disk, false)
	if err != nil {
		return Held{}, err
	}
	overlay := libvirtOverlay(disk)
	hostOverlay := path.Join(path.Dir(req.Disk), path.Base(overlay))
	held := Held{Device: ld.Target}
	switch {
	case ld.File == overlay:
		if err := d.commit(ctx, h, ld, disk, hostOverlay); err != nil {
			return Held{}, fmt.Errorf("committing the overlay %s an interrupted copy left: %w", hostOverlay, err)
		}
		held.Recovered = hostOverlay
	case ld.File != disk:
		return Held{}, fmt.Errorf("libvirt's QEMU writes the guest's changes to %s, not to %s: the disk does not change and needs no snapshot", ld.File, req.Disk)
	}
	if _, err := h.Lstat(ctx, hostOverlay); err == nil {
		return Held{}, fmt.Errorf("%s, an overlay of an earlier copy, is there although the guest does not write to it: it may hold writes %s lacks. "+
			"Delete it once you know the disk holds them", hostOverlay, req.Disk)
	}
	frozen := false
	if req.Agent {
		n, err := d.lv.DomainFsfreeze(d.dom, nil, 0)
		if err != nil {
			held.FreezeFailed = err.Error()
		} else {
			held.Frozen, frozen = int(n), true
		}
	}
	snap := fmt.Sprintf(`<domainsnapshot><disks><disk name=%q snapshot="external"><driver type="qcow2"/><source file=%q/></disk></disks></domainsnapshot>`,
		ld.Target, overlay)
	err = d.paused(func() error {
		_, err := d.lv.DomainSnapshotCreateXML(d.dom, snap,
			uint32(libvirt.DomainSnapshotCreateDiskOnly|libvirt.DomainSnapshotCreateNoMetadata|libvirt.DomainSnapshotCreateAtomic))
		return err
	})
	if frozen {
		if _, terr := d.lv.DomainFsthaw(d.dom, nil, 0); terr != nil {
			err = errors.Join(err, fmt.Errorf("thawing the guest's file systems: %w; thaw them in the guest (fsfreeze --unfreeze)", terr))
		}
	}
	if err != nil {
		if now, derr := d.disk(disk, false); derr == nil && now.File == overlay {
			err = errors.Join(err, d.commit(ctx, h, now, disk, hostOverlay))
		}
		return Held{}, fmt.Errorf("libvirt snapshot of %s: %w", req.Disk, err)
	}
	held.Overlay = hostOverlay
	return held, nil
}

func releaseLibvirt(ctx context.Context, h host.Host, req Request) error {
	disk, err := h.RealPath(ctx, req.Disk)
	if err != nil {
		return fmt.Errorf("the disk: %w", err)
	}
	d, err := dialLibvirt(req)
	if err != nil {
		return err
	}
	defer d.Close()
	if st, err := d.state(); err != nil || st == "stopped" {
		// Shut off, libvirt boots the overlay next time; the next copy
		// commits it.
		return err
	}
	ld, err := d.disk(disk, false)
	if err != nil || ld.File != libvirtOverlay(disk) {
		return err
	}
	return d.commit(ctx, h, ld, disk, path.Join(path.Dir(req.Disk), path.Base(ld.File)))
}

// paused runs fn with the domain suspended, as pause does for QEMU's own
// guests, for the same reason.
func (d *libvirtDomain) paused(fn func() error) error {
	st, err := d.state()
	if err != nil {
		return err
	}
	if st != "running" {
		return fn()
	}
	if err := d.lv.DomainSuspend(d.dom); err != nil {
		return fmt.Errorf("libvirt domain %q: suspend: %w", d.name, err)
	}
	err = fn()
	if rerr := d.lv.DomainResume(d.dom); rerr != nil {
		err = errors.Join(err, fmt.Errorf("libvirt domain %q: resume: %w", d.name, rerr))
	}
	return err
}

// commit merges the overlay of disk ld back (an active block commit),
// pivots the guest back onto the disk once the job is ready and removes
// the overlay; cut short, the guest keeps writing to the overlay.
func (d *libvirtDomain) commit(ctx context.Context, h host.Host, ld *libvirtDisk, disk, hostOverlay string) error {
	found, _, _, _, _, err := d.lv.DomainGetBlockJobInfo(d.dom, ld.Target, 0)
	if err != nil {
		return err
	}
	if found == 0 {
		if err := d.lv.DomainBlockCommit(d.dom, ld.Target, nil, nil, 0, libvirt.DomainBlockCommitActive); err != nil {
			return fmt.Errorf("libvirt block commit of %s: %w", ld.Target, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, commitTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		found, _, _, cur, end, err := d.lv.DomainGetBlockJobInfo(d.dom, ld.Target, 0)
		if err != nil {
			return err
		}
		if found == 0 {
			break
		}
		if cur == end {
			// Ready, or nearly: a pivot too early is refused and tried
			// again at the next tick.
			err := d.paused(func() error { return d.lv.DomainBlockJobAbort(d.dom, ld.Target, libvirt.DomainBlockJobAbortPivot) })
			switch {
			case err == nil:
				continue
			case !strings.Contains(err.Error(), "not ready"):
				return fmt.Errorf("libvirt pivot of %s back to %s: %w", ld.Target, disk, err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the commit of %s into %s goes on in libvirt (%d of %d bytes): %w; the next copy finishes it", ld.File, disk, cur, end, context.Cause(ctx))
		case <-tick.C:
		}
	}
	after, err := d.disk(disk, false)
	if err != nil {
		return err
	}
	if after.File != disk {
		return fmt.Errorf("the commit of %s ended, but the guest still writes to %s: the overlay is kept, with every write of the guest", ld.File, after.File)
	}
	if err := h.Remove(ctx, hostOverlay); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the guest writes to its disk again, but its committed overlay stays: %w", err)
	}
	return nil
}
