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
func readDirStat(ctx context.Context, fsys fileSystem, name string, f *os.File) ([]EntryStat, EntryErrors, error) {
	dirents, err := f.ReadDir(-1)
	if err != nil {
		return nil, nil, err
	}
	out := make([]EntryStat, 0, len(dirents))
	var bad EntryErrors
	for _, d := range dirents {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		e := EntryStat{Name: d.Name()}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			bad = append(bad, EntryError{Name: e.Name, Err: err})
			continue
		}
		e.Mode, e.Size, e.MTime = fi.Mode(), fi.Size(), fi.ModTime().UnixNano()
		if st, ok := StatOf(fi); ok {
			e.SetStat(st)
		}
		if e.Mode&fs.ModeSymlink != 0 {
			if e.Link, err = fsys.Readlink(filepath.Join(name, e.Name)); errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				bad = append(bad, EntryError{Name: e.Name, Err: err})
				continue
			}
		}
		out = append(out, e)
	}
	return out, bad, nil
}
