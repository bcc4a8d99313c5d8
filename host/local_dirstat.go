package host

import (
	"context"
	"os"
	"slices"
	"strings"
)

func (l *local) ReadDirStat(ctx context.Context, path string) ([]EntryStat, error) {
	return l.readDirStat(ctx, path, nil)
}

// readDirStat lists the folder path; before, when set, is first called
// with the open folder.
func (l *local) readDirStat(ctx context.Context, path string, before func(*os.File)) ([]EntryStat, error) {
	fsys, name, f, err := l.openDir(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if before != nil {
		before(f)
	}
	entries, bad, err := readDirStat(ctx, fsys, name, f)
	if err != nil {
		return nil, l.pathErr("readdir", path, err)
	}
	slices.SortFunc(entries, func(a, b EntryStat) int { return strings.Compare(a.Name, b.Name) })
	if len(bad) > 0 {
		dir := strings.TrimSuffix(path, "/") + "/"
		for i := range bad {
			bad[i].Err = l.pathErr("lstat", dir+bad[i].Name, bad[i].Err)
		}
		return entries, bad
	}
	return entries, nil
}
