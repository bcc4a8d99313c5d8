package drives

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drover-dr/drover/host"
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
)

// Methods lists the methods a configuration may name.
var Methods = []Method{Auto, None, Reflink, Btrfs, Freeze, Passes}

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
}

func (c Choice) String() string { return string(c.Method) + " (" + c.Why + ")" }

// Choose picks the method for copying src to the files in avoid (the
// target, its manifest and journal), which must not lie on a file system
// that would be frozen. want is Auto or the configured method, which is
// checked to apply.
func Choose(ctx context.Context, h host.Host, src *Drive, want Method, avoid []string) (Choice, error) {
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
	Frozen  time.Duration
	cleanup func(context.Context) error
}

// Close removes a clone or snapshot.
func (v *View) Close(ctx context.Context) error {
	if v.cleanup == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return v.cleanup(ctx)
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
