package drives

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/vm/guestdisk"
	"github.com/hashicorp/go-multierror"
)

// Method is how a copy gets a point-in-time view of its source.
type Method string

const (
	Auto    Method = "auto"
	None    Method = "none"     // copy the source as it is
	Reflink Method = "reflink"  // copy from a reflink clone of the image
	Btrfs   Method = "btrfs"    // copy from a read-only btrfs snapshot
	Freeze  Method = "fsfreeze" // a live pass, then a final pass with the mounted file systems frozen
	Passes  Method = "passes"   // passes until one finds nothing changed
	Guest   Method = "guest"    // the running source guest's hypervisor holds the disk still (package guestdisk)
)

// Methods lists the methods a configuration may name.
var Methods = []Method{Auto, None, Reflink, Btrfs, Freeze, Passes, Guest}

// MaxPasses bounds the passes method.
const MaxPasses = 5

// FreezeLimit is the longest a file system stays frozen: a watchdog thaws
// it then, whatever the copy is doing.
const FreezeLimit = 2 * time.Minute

// Choice is the method a copy will use, with the reason in words.
type Choice struct {
	Method Method
	Why    string
	// Frozen are the mount points fsfreeze freezes (Freeze, or a Reflink
	// clone of an image whose file systems are mounted).
	Frozen []string
	// Subvolume is the btrfs subvolume a Btrfs snapshot is taken of.
	Subvolume string
	// Guest is the running guest whose disk a Guest view holds, and
	// HoldDisk that disk on the guest's host.
	Guest    *guestdisk.Guest
	HoldDisk guestdisk.Request
}

func (c Choice) String() string { return string(c.Method) + " (" + c.Why + ")" }

// Choose picks the method for copying src to the files in avoid (the
// target, its manifest and journal), which must not lie on a file system
// that would be frozen. want is Auto or the configured method, which is
// checked to apply. guest, when not nil, is the guest that src is a disk
// of (source_guest): Auto and Guest then ask that guest's hypervisor.
func Choose(ctx context.Context, h host.Host, src *Drive, want Method, guest *guestdisk.Guest, avoid []string) (Choice, error) {
	if guest != nil && (want == Auto || want == Guest || want == "") {
		return chooseGuest(ctx, src, guest)
	}
	if want == Guest {
		return Choice{}, errors.New("snapshot = \"guest\" needs the guest whose disk the source is: source_guest = vm_guest.NAME")
	}
	mounts, err := readMounts(ctx, h)
	if err != nil {
		return Choice{}, err
	}
	var frozen []string
	var rootMounted bool
	for _, m := range src.Mounts {
		if m.Point == "/" {
			rootMounted = true
		}
		if !m.ReadOnly {
			frozen = append(frozen, m.Point)
		}
	}
	for _, p := range avoid {
		if mp := mountOf(mounts, p); mp != nil && slices.Contains(frozen, mp.Point) {
			return Choice{}, fmt.Errorf("%s lies on %s, a file system of the source that a consistent copy would freeze; keep the target off the source", p, mp.Point)
		}
	}
	canFreeze := len(frozen) > 0 && !rootMounted
	var fsType string
	if src.Kind == Image {
		if mp := mountOf(mounts, src.Path); mp != nil {
			fsType = mp.FSType
		}
	}
	reflinkWhy := ""
	if fsType == "btrfs" || fsType == "xfs" {
		reflinkWhy = "the image lies on " + fsType
	}
	switch want {
	case None:
		return Choice{Method: None, Why: "configured"}, nil
	case Passes:
		return Choice{Method: Passes, Why: "configured"}, nil
	case Reflink:
		if src.Kind != Image {
			return Choice{}, fmt.Errorf("snapshot = \"reflink\" needs an image file as the source; %s is a device", src.Path)
		}
		c := Choice{Method: Reflink, Why: "configured"}
		if canFreeze {
			c.Frozen = frozen
		}
		return c, nil
	case Btrfs:
		if src.Kind != Image || fsType != "btrfs" && fsType != "" {
			return Choice{}, fmt.Errorf("snapshot = \"btrfs\" needs an image file on btrfs as the source; %s is not one", src.Path)
		}
		sub, err := subvolumeOf(ctx, h, path.Dir(src.Path))
		if err != nil {
			return Choice{}, err
		}
		return Choice{Method: Btrfs, Why: "configured", Subvolume: sub}, nil
	case Freeze:
		if !canFreeze {
			return Choice{}, fmt.Errorf("snapshot = \"fsfreeze\" needs file systems of the source mounted read-write (and not /); %s has none", src.Path)
		}
		return Choice{Method: Freeze, Why: "configured", Frozen: frozen}, nil
	case Auto, "":
	default:
		return Choice{}, fmt.Errorf("unknown snapshot method %q", want)
	}
	switch {
	case reflinkWhy != "":
		c := Choice{Method: Reflink, Why: reflinkWhy}
		if canFreeze {
			c.Frozen = frozen
			c.Why += ", frozen while it is cloned as " + strings.Join(frozen, ", ") + " is mounted"
		}
		return c, nil
	case canFreeze:
		return Choice{Method: Freeze, Frozen: frozen, Why: strings.Join(frozen, ", ") + " is mounted from it"}, nil
	case rootMounted:
		return Choice{Method: Passes, Why: "it holds the mounted root file system, which cannot be frozen"}, nil
	case len(src.Mounts) > 0 || len(src.Holders) > 0:
		return Choice{Method: Passes, Why: "it is in use (" + src.InUse() + ") and no snapshot applies"}, nil
	}
	return Choice{Method: None, Why: "nothing mounts or holds it"}, nil
}

// chooseGuest picks how to copy src, a disk of guest: while the guest
// runs on QEMU, a hold of the disk (fs-freeze when it has an agent);
// when it does not run, or writes to a throwaway overlay, the disk does
// not change and is copied as it is.
func chooseGuest(ctx context.Context, src *Drive, guest *guestdisk.Guest) (Choice, error) {
	switch guest.Hypervisor {
	case "qemu":
	case "libvirt":
		if guest.LibvirtURI == "" {
			return Choice{}, fmt.Errorf("the source guest %s has no libvirt_uri in its state: apply its vm_guest first", guest)
		}
	case "vsphere":
		return Choice{}, fmt.Errorf("the source guest %s is a vSphere VM: its disks live on datastores, and vSphere's snapshots are not taken by Drover in this release. "+
			"Copy the VM with vSphere's own replication, or leave source_guest out and copy a datastore file that is a host path with a snapshot method", guest)
	default:
		return Choice{}, fmt.Errorf("the source guest %s runs on %s: Drover holds the disks of qemu and libvirt guests only. "+
			"Leave source_guest out and choose a snapshot method (passes), or stop the guest for the copy", guest, guest.Hypervisor)
	}
	if !slices.Contains(guest.Disks, src.Path) {
		return Choice{}, fmt.Errorf("the source %s is not a disk of the source guest %s, whose disks are %s; give one of them as source",
			src.Path, guest, strings.Join(guest.Disks, ", "))
	}
	if guest.Stopped {
		return Choice{Method: None, Why: fmt.Sprintf("the guest %q is not running (running = false): its disk does not change", guest.Name)}, nil
	}
	if guest.Throwaway {
		return Choice{Method: None, Why: fmt.Sprintf("the guest %q writes to a throwaway overlay (snapshot = true): its disk does not change", guest.Name)}, nil
	}
	gh, err := guest.Host.OpenContext(ctx)
	if err != nil {
		return Choice{}, fmt.Errorf("the source guest's host: %w", err)
	}
	defer gh.Close()
	req := guestdisk.Request{StateDir: guest.StateDir, Disk: src.Path, Agent: guest.Agent,
		Hypervisor: guest.Hypervisor, LibvirtURI: guest.LibvirtURI, Domain: guest.Name}
	p, err := guestdisk.ProbeDisk(ctx, gh, req)
	switch {
	case errors.Is(err, host.ErrNoOps):
		return Choice{}, fmt.Errorf("the source guest %s cannot be asked about its disk: %w", guest, err)
	case err != nil:
		return Choice{}, fmt.Errorf("asking the source guest %s about its disk: %w", guest, err)
	case !p.Running:
		return Choice{Method: None, Why: fmt.Sprintf("the guest %q is not running: its disk does not change", guest.Name)}, nil
	case p.Throwaway:
		return Choice{Method: None, Why: fmt.Sprintf("the guest %q writes to a throwaway overlay: its disk does not change", guest.Name)}, nil
	}
	how := "QMP external snapshot of the running guest"
	if guest.Hypervisor == "libvirt" {
		how = "libvirt external snapshot of the running domain"
	}
	why := fmt.Sprintf("%s %q, fs-freeze by the guest agent", how, guest.Name)
	if !guest.Agent {
		why = fmt.Sprintf("%s %q, crash-consistent: it has no guest agent (guest_agent)", how, guest.Name)
	}
	return Choice{Method: Guest, Why: why, Guest: guest, HoldDisk: req}, nil
}

// mountOf is the mount holding the absolute path p (longest mount point
// that prefixes it).
func mountOf(mounts []Mount, p string) *Mount {
	var best *Mount
	for i, m := range mounts {
		if (p == m.Point || strings.HasPrefix(p, strings.TrimSuffix(m.Point, "/")+"/")) && (best == nil || len(m.Point) >= len(best.Point)) {
			best = &mounts[i]
		}
	}
	return best
}

// subvolumeOf finds the btrfs subvolume holding dir: the nearest folder
// whose inode number is 256.
func subvolumeOf(ctx context.Context, h host.Host, dir string) (string, error) {
	for d := dir; ; d = path.Dir(d) {
		fi, err := h.Lstat(ctx, d)
		if err != nil {
			return "", err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Ino == 256 {
			return d, nil
		}
		if d == "/" {
			return "", fmt.Errorf("%s is not inside a btrfs subvolume", dir)
		}
	}
}

// View is the point-in-time view a copy reads.
type View struct {
	// Path is what to read: the source, or a clone or snapshot of it.
	Path string
	// Freeze, when set, freezes the source for the copy's final pass.
	Freeze func(ctx context.Context) (func() error, error)
	// MaxPasses for the copy.
	MaxPasses int
	// Frozen is how long a clone kept the source frozen.
	Frozen time.Duration
	// Note tells how the view was taken where it differs from the plan:
	// a guest agent that did not answer, a killed copy's overlay
	// committed first.
	Note    string
	cleanup func(context.Context) error
}

// Close removes a clone or snapshot, or releases a guest's disk; a second
// Close does nothing.
func (v *View) Close(ctx context.Context) error {
	if v.cleanup == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	cleanup := v.cleanup
	v.cleanup = nil
	return cleanup(ctx)
}

// Open takes the view c describes of src.
func Open(ctx context.Context, h host.Host, src *Drive, c Choice) (*View, error) {
	v := &View{Path: src.Path, MaxPasses: 1}
	switch c.Method {
	case Passes:
		v.MaxPasses = MaxPasses
	case Freeze:
		v.Freeze = func(ctx context.Context) (func() error, error) { return FreezeAll(ctx, h, c.Frozen, FreezeLimit) }
	case Reflink:
		clone := path.Join(path.Dir(src.Path), ".drover-clone-"+randomName()+"-"+path.Base(src.Path))
		var thaw func() error
		if len(c.Frozen) > 0 {
			var err error
			if thaw, err = FreezeAll(ctx, h, c.Frozen, FreezeLimit); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		_, err := Run(ctx, h, "cp", "--reflink=always", src.Path, clone)
		if thaw != nil {
			v.Frozen = time.Since(start)
			if terr := thaw(); terr != nil && err == nil {
				err = terr
			}
		}
		if err != nil {
			h.Remove(ctx, clone)
			return nil, fmt.Errorf("cloning %s: %w (choose snapshot = \"passes\" where reflinks are not available)", src.Path, err)
		}
		v.Path = clone
		v.cleanup = func(ctx context.Context) error { return h.Remove(ctx, clone) }
	case Guest:
		gh, err := c.Guest.Host.OpenContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("the source guest's host: %w", err)
		}
		held, err := guestdisk.Hold(ctx, gh, c.HoldDisk)
		if err != nil {
			gh.Close()
			return nil, fmt.Errorf("holding the disk of the source guest %s: %w", c.Guest, err)
		}
		if held.Recovered != "" {
			v.Note += "; first committed " + held.Recovered + ", left by a copy that was killed"
		}
		switch {
		case held.FreezeFailed != "":
			v.Note += "; crash-consistent: the guest agent did not freeze (" + held.FreezeFailed + ")"
		case c.Guest.Agent:
			v.Note += fmt.Sprintf("; %d file systems frozen", held.Frozen)
		}
		// The image stops changing: the copy reads it where it is.
		v.cleanup = func(ctx context.Context) error {
			defer gh.Close()
			// What the guest wrote during the copy is committed back:
			// more than Close's minute may be needed.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
			defer cancel()
			return guestdisk.Release(ctx, gh, c.HoldDisk)
		}
	case Btrfs:
		snap := path.Join(c.Subvolume, ".drover-snapshot-"+randomName())
		if _, err := Run(ctx, h, "btrfs", "subvolume", "snapshot", "-r", c.Subvolume, snap); err != nil {
			return nil, err
		}
		rel := strings.TrimPrefix(src.Path, strings.TrimSuffix(c.Subvolume, "/"))
		v.Path = path.Join(snap, rel)
		v.cleanup = func(ctx context.Context) error {
			_, err := Run(ctx, h, "btrfs", "subvolume", "delete", snap)
			return err
		}
	}
	return v, nil
}

// FreezeAll freezes the file systems mounted at points. The returned thaw
// unfreezes them; a watchdog does so after limit if thaw was not called,
// since anything writing to a frozen file system blocks, unkillably.
func FreezeAll(ctx context.Context, h host.Host, points []string, limit time.Duration) (func() error, error) {
	var done []string
	var once sync.Once
	var errs error
	thaw := func() error {
		once.Do(func() {
			tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			for _, p := range slices.Backward(done) {
				if _, err := Run(tctx, h, "fsfreeze", "--unfreeze", p); err != nil {
					errs = multierror.Append(errs, err)
				}
			}
		})
		return errs
	}
	for _, p := range points {
		if _, err := Run(ctx, h, "fsfreeze", "--freeze", p); err != nil {
			thaw()
			return nil, err
		}
		done = append(done, p)
	}
	watchdog := time.AfterFunc(limit, func() { thaw() })
	return func() error {
		watchdog.Stop()
		return thaw()
	}, nil
}

func randomName() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
