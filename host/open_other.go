//go:build !linux

package host

import (
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
