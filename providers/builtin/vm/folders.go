package vm

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers"
	"github.com/zclconf/go-cty/cty"
)

// sharedFolder is a folder of the host a guest mounts: Drover copies it
// into a FAT file system image, made anew at each start and attached after
// the guest's disks. The guest sees the folder as it was at its start; what
// it writes there is not carried back.
type sharedFolder struct {
	path  string // the folder on the host
	image string // the image file on the host
}

// Sizes of a folder's image: its files twice over and some room for the
// file system's tables, at least minFolderImage (a FAT32 volume of fewer
// clusters is refused by some guests).
const (
	minFolderImage   = 64 << 20
	folderImageSlack = 16 << 20
)

// folderLabel is the volume label of every folder image.
const folderLabel = "DROVER"

// buildFolderImages makes the images of g's shared folders anew, for a
// start.
func buildFolderImages(ctx context.Context, h host.Host, g *guest, progress func(providers.Progress)) providers.Diagnostics {
	for i, f := range g.folders {
		progress(providers.Progress{Message: "copying the shared folder " + f.path + " into " + f.image})
		// Built on the machine, where the image is written.
		req := folderImageRequest{Path: f.path, Image: f.image}
		if _, err := host.Call[folderImageRequest, folderImageResponse](ctx, h, "vm.folder_image", req); err != nil {
			return providers.Diagnostics{providers.AttrErrorf(cty.GetAttrPath("shared_folder").IndexInt(i), "Guest not started", "%s.", err)}
		}
	}
	return nil
}

// buildFolderImage writes f's image: a FAT32 file system holding f's
// files and folders, built in a temporary file beside the image and
// renamed over it, so that a failed build leaves the last image whole.
// Anything but files and folders (a symlink, a device) is refused, rather
// than left out of what the guest sees.
func buildFolderImage(ctx context.Context, h host.Host, f sharedFolder) error {
	var size int64
	type entry struct {
		rel string
		dir bool
	}
	var entries []entry
	var walk func(rel string) error
	walk = func(rel string) error {
		list, err := h.ReadDir(ctx, path.Join(f.path, rel))
		if err != nil {
			return err
		}
		for _, e := range list {
			r := path.Join(rel, e.Name())
			switch {
			case e.IsDir():
				entries = append(entries, entry{r, true})
				if err := walk(r); err != nil {
					return err
				}
			case e.Type().IsRegular():
				fi, err := h.Lstat(ctx, path.Join(f.path, r))
				if err != nil {
					return err
				}
				size += fi.Size()
				entries = append(entries, entry{r, false})
			default:
				return fmt.Errorf("the shared folder %s holds %s, a %s; its image holds files and folders only", f.path, path.Join(f.path, r), host.ModeKind(e.Type()))
			}
		}
		return nil
	}
	fi, err := h.Lstat(ctx, f.path)
	switch {
	case err != nil:
		return fmt.Errorf("the shared folder %s on host %q: %w", f.path, h.Name(), err)
	case !fi.IsDir():
		return fmt.Errorf("the shared folder %s on host %q is a %s, not a folder", f.path, h.Name(), host.ModeKind(fi.Mode()))
	}
	if err := walk(""); err != nil {
		return err
	}
	size = max(2*size+folderImageSlack, minFolderImage)
	size = (size + 1<<20 - 1) &^ (1<<20 - 1)

	if err := h.MkdirAll(ctx, path.Dir(f.image), 0o755); err != nil {
		return err
	}
	tmp, tmpPath, err := h.CreateTemp(ctx, f.image)
	if err != nil {
		return err
	}
	tmp.Close()
	done := false
	defer func() {
		if !done {
			h.Remove(context.WithoutCancel(ctx), tmpPath)
		}
	}()
	real, err := h.RealPath(ctx, tmpPath)
	if err != nil {
		return err
	}
	if err := os.Truncate(real, size); err != nil {
		return err
	}
	img, err := os.OpenFile(real, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer img.Close()
	fsys, err := fat32.Create(file.New(img, false), size, 0, 512, folderLabel, false)
	if err != nil {
		return fmt.Errorf("making the FAT file system of %s: %w", f.image, err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := "/" + e.rel
		if e.dir {
			if err := fsys.Mkdir(name); err != nil {
				return fmt.Errorf("the shared folder's %s in its image: %w", e.rel, err)
			}
			continue
		}
		if err := copyInto(ctx, h, fsys, path.Join(f.path, e.rel), name); err != nil {
			return fmt.Errorf("the shared folder's %s in its image: %w", e.rel, err)
		}
	}
	if err := img.Sync(); err != nil {
		return err
	}
	if err := h.Rename(ctx, tmpPath, f.image); err != nil {
		return err
	}
	done = true
	return nil
}

// copyInto copies the host's file src to name in fsys.
func copyInto(ctx context.Context, h host.Host, fsys filesystem.FileSystem, src, name string) error {
	r, err := h.Open(ctx, src)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
