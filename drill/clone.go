package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/disk/drives"
)

// Method is how a drill gets its isolated copy of a source.
type Method string

const (
	// Reflink clones a file sharing its blocks (xfs with reflink=1,
	// btrfs): instant, point in time, and the source may go on changing.
	Reflink Method = "reflink"
	// Qcow2Overlay puts a qcow2 image in front of a guest's raw disk image:
	// the guest writes to the overlay, QEMU only reads the image. The image
	// must not change while the drill runs.
	Qcow2Overlay Method = "qcow2 overlay"
	// Overlayfs mounts an overlay over a folder tree: the tree is its
	// read-only lower layer, the drill's changes go to an upper folder in
	// the drill's folder. The tree must not change while the drill runs.
	Overlayfs Method = "overlayfs"
	// Copy copies the source in full: what small files (hives, boot
	// stores) get, and anything where nothing cheaper applies.
	Copy Method = "copy"
)

// SmallFile is the size up to which a full copy is unremarkable; a larger
// one is made with a warning, since it costs time and space a reflink
// would not.
const SmallFile = 64 << 20

// CloneOptions shape a clone.
type CloneOptions struct {
	// Disk says the source is a guest's raw disk image (a file or a block
	// device): where reflinks are not available it gets a qcow2 overlay
	// rather than a full copy.
	Disk bool
}

// Clone is an isolated copy of a source, or in a plan, the copy a drill
// would make.
type Clone struct {
	// Source is the path cloned, as the caller gave it.
	Source string
	// Path is where the drill acts on the copy; "" in a plan.
	Path string
	// Method is how the copy is made, Why the reason in words.
	Method Method
	Why    string
	// Warning, when set, says why this copy is dearer or weaker than the
	// plan promised (a full copy of a large source, a method refused).
	Warning string
}

func (c Clone) String() string {
	s := string(c.Method) + " (" + c.Why + ")"
	if c.Warning != "" {
		s += "; warning: " + c.Warning
	}
	return s
}

// Plan says how Clone would copy src on h, doing nothing: what `drover plan
// --drill` shows. The file system decides (reflinks on xfs and btrfs), so
// a reflink may still fall back when the clone is made (an xfs made
// without reflink=1, a clone folder on another file system); the clone
// then says so in its Warning.
func Plan(ctx context.Context, h host.Host, src string, opts CloneOptions) (Clone, error) {
	c, _, err := plan(ctx, h, src, opts)
	return c, err
}

func plan(ctx context.Context, h host.Host, src string, opts CloneOptions) (Clone, fs.FileInfo, error) {
	fi, err := h.Lstat(ctx, src)
	if err != nil {
		return Clone{}, nil, fmt.Errorf("the drill's source: %w", err)
	}
	c := Clone{Source: src}
	mode := fi.Mode()
	switch {
	case mode.IsRegular() || opts.Disk && mode.Type() == fs.ModeDevice:
		fsType, err := fsTypeOf(ctx, h, src)
		if err != nil {
			return Clone{}, nil, err
		}
		switch {
		case mode.IsRegular() && (fsType == "xfs" || fsType == "btrfs"):
			c.Method, c.Why = Reflink, "the file lies on "+fsType+", which shares blocks between files"
		case opts.Disk:
			c.Method, c.Why = Qcow2Overlay, "a disk image on "+fsType+", without reflinks: the guest writes to the overlay, QEMU only reads the image"
		default:
			c.Method, c.Why = Copy, "the file lies on "+fsType+", without reflinks"
			if fi.Size() > SmallFile {
				c.Warning = fmt.Sprintf("a full copy of %d MiB; put the source on xfs (reflink=1) or btrfs to clone it instantly", fi.Size()>>20)
			}
		}
	case mode.IsDir():
		fsType, err := fsTypeOf(ctx, h, src)
		if err != nil {
			return Clone{}, nil, err
		}
		ok, err := overlayAvailable(ctx, h)
		if err != nil {
			return Clone{}, nil, err
		}
		switch {
		case fsType == "xfs" || fsType == "btrfs":
			c.Method, c.Why = Reflink, "a folder tree on "+fsType+": every file cloned sharing its blocks, so that the tree may go on changing"
		case ok:
			c.Method, c.Why = Overlayfs, "a folder tree on "+fsType+", without reflinks: an overlay over it keeps the drill's changes in the drill's folder"
		default:
			c.Method, c.Why = Copy, "a folder tree on "+fsType+", without reflinks, and host "+h.Name()+" has no overlayfs"
			c.Warning = "a full copy of the tree"
		}
	default:
		return Clone{}, nil, fmt.Errorf("the drill's source %s is a %s; give the file or folder itself", src, host.ModeKind(mode))
	}
	return c, fi, nil
}

// fsTypeOf names the file system holding p on h, as stat -f does (xfs,
// btrfs, ext2/ext3, tmpfs, ...).
func fsTypeOf(ctx context.Context, h host.Host, p string) (string, error) {
	real, err := h.RealPath(ctx, p)
	if err != nil {
		return "", err
	}
	out, err := drives.Run(ctx, h, "stat", "--file-system", "--format", "%T", "--", real)
	if err != nil {
		return "", fmt.Errorf("finding the file system of %s: %w", p, err)
	}
	return strings.TrimSpace(out), nil
}

// overlayAvailable says whether h's kernel mounts overlayfs.
func overlayAvailable(ctx context.Context, h host.Host) (bool, error) {
	out, err := drives.Run(ctx, h, "cat", "/proc/filesystems")
	if err != nil {
		return false, fmt.Errorf("listing the file systems of host %q: %w", h.Name(), err)
	}
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == "overlay" {
			return true, nil
		}
	}
	return false, nil
}

// Clone makes an isolated copy of src on h in the folder dstDir, by the
// cheapest method that works there (see Plan), and says which. Every object
// it creates (dstDir itself when missing, the copy, an overlay's folders
// and mount) is recorded before it is created, for the teardown. src is
// only ever read: opened read-only, an overlay's lower layer, a qcow2
// overlay's backing image.
func (inv *Inventory) Clone(ctx context.Context, h host.Host, src, dstDir string, opts CloneOptions) (Clone, error) {
	c, fi, err := plan(ctx, h, src, opts)
	if err != nil {
		return Clone{}, err
	}
	if _, err := h.Lstat(ctx, dstDir); isGone(err) {
		if err := inv.create(ctx, h, File, dstDir, "the folder of the drill's clones", func() error {
			return h.MkdirAll(ctx, dstDir, 0o700)
		}); err != nil {
			return Clone{}, err
		}
	} else if err != nil {
		return Clone{}, err
	}
	base := path.Base(src)
	c.Path = path.Join(dstDir, base)
	if c.Method == Reflink {
		err := inv.create(ctx, h, File, c.Path, "a reflink of "+src, func() error {
			if fi.IsDir() {
				return reflinkTree(ctx, h, src, c.Path)
			}
			return h.Reflink(ctx, src, c.Path)
		})
		if !errors.Is(err, errors.ErrUnsupported) {
			return c, err
		}
		// What a tree's clone made before the refusal goes now, for the
		// next method to use the path.
		if rerr := removeTree(ctx, h, c.Path); rerr != nil {
			return c, rerr
		}
		c.Warning = "no reflink: " + err.Error()
		c.Method, c.Why = Copy, "reflinks refused"
		switch {
		case opts.Disk:
			c.Method = Qcow2Overlay
		case fi.IsDir():
			if ok, _ := overlayAvailable(ctx, h); ok {
				c.Method = Overlayfs
			}
		}
	}
	switch c.Method {
	case Qcow2Overlay:
		c.Path = path.Join(dstDir, base+".qcow2")
		return c, inv.create(ctx, h, File, c.Path, "a qcow2 overlay of "+src, func() error { return qcow2Overlay(ctx, h, src, c.Path) })
	case Overlayfs:
		err := inv.overlay(ctx, h, src, dstDir, base)
		if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, fs.ErrExist) {
			return c, err
		}
		c.Method, c.Why = Copy, "overlayfs did not mount"
		c.Warning = strings.TrimPrefix(c.Warning+"; a full copy of the tree, for overlayfs did not mount: "+err.Error(), "; ")
	}
	if fi.Mode().IsDir() {
		copyTree := func() error { return drives.CopyTree(ctx, h, src, h, c.Path) }
		if _, err := h.Lstat(ctx, c.Path); err == nil {
			// The mount point of the overlay that did not mount, recorded.
			return c, copyTree()
		}
		return c, inv.create(ctx, h, File, c.Path, "a copy of "+src, copyTree)
	}
	return c, inv.create(ctx, h, File, c.Path, "a copy of "+src, func() error { return copyFile(ctx, h, src, c.Path, fi.Mode().Perm()) })
}

// reflinkTree makes dst a copy of the tree src whose files are reflinks of
// src's, with src's modes, owners and times; symlinks are copied as links,
// never followed. Each file is a point-in-time copy, the tree as a whole is
// not: a file changed while the walk goes on is taken before or after.
func reflinkTree(ctx context.Context, h host.Host, src, dst string) error {
	fi, err := h.Lstat(ctx, src)
	if err != nil {
		return err
	}
	switch fi.Mode().Type() {
	case 0:
		if err := h.Reflink(ctx, src, dst); err != nil {
			return err
		}
	case fs.ModeDir:
		if err := h.MkdirAll(ctx, dst, 0o700); err != nil {
			return err
		}
		entries, err := h.ReadDir(ctx, src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := reflinkTree(ctx, h, path.Join(src, e.Name()), path.Join(dst, e.Name())); err != nil {
				return err
			}
		}
	case fs.ModeSymlink:
		target, err := h.Readlink(ctx, src)
		if err != nil {
			return err
		}
		if err := h.Symlink(ctx, target, dst); err != nil {
			return err
		}
	default:
		return nil // sockets, fifos, devices: nothing a step acts on
	}
	if st, ok := host.StatOf(fi); ok {
		if err := h.Lchown(ctx, dst, st.UID, st.GID); err != nil {
			return err
		}
	}
	if fi.Mode().Type() == fs.ModeSymlink {
		return nil
	}
	if err := h.Chmod(ctx, dst, fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	return h.Chtimes(ctx, dst, fi.ModTime(), fi.ModTime())
}

// create records the object, then makes it. A file is never recorded
// over something already there, which the teardown would then remove: a
// path found taken, before or while it is made, is refused and, once
// recorded, voided.
func (inv *Inventory) create(ctx context.Context, h host.Host, kind, id, note string, make func() error) error {
	if kind == File {
		if _, err := h.Lstat(ctx, id); err == nil {
			return fmt.Errorf("%s exists already; a drill clones into a folder of its own: %w", id, fs.ErrExist)
		} else if !isGone(err) {
			return err
		}
	}
	o, err := inv.Record(ctx, h, Object{Kind: kind, ID: id, Note: note})
	if err != nil {
		return err
	}
	err = make()
	if kind == File && errors.Is(err, fs.ErrExist) {
		if verr := inv.Void(o); verr != nil {
			return verr
		}
	}
	return err
}

// copyFile copies src to the new file dst; a copy cut short is the
// teardown's to remove, as dst was recorded before.
func copyFile(ctx context.Context, h host.Host, src, dst string, perm fs.FileMode) (err error) {
	in, err := h.Open(ctx, src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := h.OpenFile(ctx, dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	if err := h.Chmod(ctx, dst, perm); err != nil {
		return err
	}
	return out.Sync()
}

// qcow2Overlay makes dst a qcow2 image backed by the raw image src.
func qcow2Overlay(ctx context.Context, h host.Host, src, dst string) error {
	realSrc, err := h.RealPath(ctx, src)
	if err != nil {
		return err
	}
	// dst is made first, exclusively: qemu-img would overwrite whatever
	// is there.
	f, err := h.OpenFile(ctx, dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	realDst, err := h.RealPath(ctx, dst)
	if err != nil {
		return err
	}
	_, err = drives.Run(ctx, h, "qemu-img", "create", "-q", "-f", "qcow2", "-b", realSrc, "-F", "raw", realDst)
	if err != nil && !drives.IsRunError(err) && ctx.Err() == nil {
		return fmt.Errorf("a qcow2 overlay needs qemu-img on host %q (Debian's qemu-utils): %w", h.Name(), err)
	}
	return err
}

// overlay mounts an overlayfs over the tree src at dstDir/base, with its
// upper and work folders in dstDir/.base.overlay.
func (inv *Inventory) overlay(ctx context.Context, h host.Host, src, dstDir, base string) error {
	realSrc, err := h.RealPath(ctx, src)
	if err != nil {
		return err
	}
	realDir, err := h.RealPath(ctx, dstDir)
	if err != nil {
		return err
	}
	// overlayfs options split on commas and layers on colons.
	for _, p := range []string{realSrc, realDir, base} {
		if strings.ContainsAny(p, ",:\\") {
			return fmt.Errorf("%s holds a comma, colon or backslash, which overlayfs options cannot carry", p)
		}
	}
	layers := path.Join(dstDir, "."+base+".overlay")
	if err := inv.create(ctx, h, File, layers, "the upper and work folders of an overlay over "+src, func() error {
		if err := h.MkdirAll(ctx, path.Join(layers, "upper"), 0o700); err != nil {
			return err
		}
		return h.MkdirAll(ctx, path.Join(layers, "work"), 0o700)
	}); err != nil {
		return err
	}
	merged := path.Join(dstDir, base)
	if err := inv.create(ctx, h, File, merged, "the mount point of an overlay over "+src, func() error {
		return h.MkdirAll(ctx, merged, 0o700)
	}); err != nil {
		return err
	}
	realMerged := path.Join(realDir, base)
	realLayers := path.Join(realDir, "."+base+".overlay")
	return inv.create(ctx, h, Mount, realMerged, "an overlay over "+src, func() error {
		_, err := drives.Run(ctx, h, "mount", "-t", "overlay", "overlay", "-o",
			"lowerdir="+realSrc+",upperdir="+realLayers+"/upper,workdir="+realLayers+"/work", realMerged)
		return err
	})
}
