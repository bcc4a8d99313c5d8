package vm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
)

// checkDisks refuses disks a guest must not start from: missing ones,
// ones that are not image files, and drive_copy targets that hold no
// complete generation. A target is known by the manifest or the undo
// journal a drive_copy keeps beside it (PATH.blocks, PATH.journal); a copy
// whose manifest lives elsewhere (the manifest argument, device targets)
// is not recognised in this release.
func checkDisks(ctx context.Context, h host.Host, disks []string) error {
	for _, d := range disks {
		fi, err := h.Lstat(ctx, d)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("the disk %s does not exist on host %q", d, h.Name())
		case err != nil:
			return err
		case !fi.Mode().IsRegular():
			return fmt.Errorf("the disk %s on host %q is a %s; this release boots raw image files only", d, h.Name(), host.ModeKind(fi.Mode()))
		}
		t := blocks.Beside(h, d)
		if !exists(ctx, h, t.Manifest) && !exists(ctx, h, t.Journal) {
			continue
		}
		st, err := t.Inspect(ctx)
		if err != nil {
			return fmt.Errorf("the disk %s is a drive copy's target whose manifest cannot be read (%w); apply its drive_copy again to make a full copy", d, err)
		}
		if err := st.Usable(); err != nil {
			return fmt.Errorf("the disk %s is a drive copy's target without a complete generation to boot: %w", d, err)
		}
	}
	return nil
}

// exists says whether p may be there: an error other than its absence
// counts, so that Inspect reports it.
func exists(ctx context.Context, h host.Host, p string) bool {
	_, err := h.Lstat(ctx, p)
	return !errors.Is(err, fs.ErrNotExist)
}
