//go:build !linux

package host

import (
	"errors"
	"io/fs"
	"os"
)

func openBeneath(dir *os.File, name string, flag int, perm fs.FileMode) (*os.File, bool) {
	return nil, false
}

func openPlain(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}

func (r *rootFS) openSub(rel string) (*os.Root, *os.File, error) {
	root, err := r.OpenRoot(rel)
	return root, nil, err
}

// openNoFollow opens name below the root unless it is a symlink. Unlike
// Linux's, it can be raced: a symlink swapped in after the check is
// followed if it stays inside the root.
func (r *rootFS) openNoFollow(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if fi, err := r.Root.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("a symlink, not followed")}
	}
	return r.Root.OpenFile(name, flag, perm)
}
