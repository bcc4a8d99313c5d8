//go:build !linux

package host

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// readDirStat lists the open folder f, named name in fsys, through the
// portable calls.
func readDirStat(ctx context.Context, fsys fileSystem, name string, f *os.File) ([]EntryStat, error) {
	dirents, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	out := make([]EntryStat, 0, len(dirents))
	for _, d := range dirents {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := EntryStat{Name: d.Name()}
		fi, err := d.Info()
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			e.Err = err
		default:
			e.Mode, e.Size, e.MTime = fi.Mode(), fi.Size(), fi.ModTime().UnixNano()
			e.Stat, e.HasStat = StatOf(fi)
			if e.Mode&fs.ModeSymlink != 0 {
				if e.Link, err = fsys.Readlink(filepath.Join(name, e.Name)); errors.Is(err, fs.ErrNotExist) {
					continue
				} else if err != nil {
					e = EntryStat{Name: e.Name, Err: err}
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}
