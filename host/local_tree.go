package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// op runs one file system call on path, reporting errors as being about
// the host's path.
func (l *local) op(ctx context.Context, name, path string, f func(fsys fileSystem, rel string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fsys, rel, err := l.resolve(name, path)
	if err != nil {
		return err
	}
	if err := f(fsys, rel); err != nil {
		return l.pathErr(name, path, err)
	}
	return nil
}

func (l *local) Symlink(ctx context.Context, target, newname string) error {
	return l.op(ctx, "symlink", newname, func(fsys fileSystem, rel string) error { return fsys.Symlink(target, rel) })
}

func (l *local) Readlink(ctx context.Context, path string) (string, error) {
	var target string
	err := l.op(ctx, "readlink", path, func(fsys fileSystem, rel string) (err error) {
		target, err = fsys.Readlink(rel)
		return err
	})
	return target, err
}

func (l *local) Link(ctx context.Context, oldname, newname string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fsys, oldRel, err := l.resolve("link", oldname)
	if err != nil {
		return err
	}
	_, newRel, err := l.resolve("link", newname)
	if err != nil {
		return err
	}
	if err := fsys.Link(oldRel, newRel); err != nil {
		return l.pathErr("link", newname, err)
	}
	return nil
}

func (l *local) Lchown(ctx context.Context, path string, uid, gid int) error {
	return l.op(ctx, "lchown", path, func(fsys fileSystem, rel string) error { return fsys.Lchown(rel, uid, gid) })
}

func (l *local) Chtimes(ctx context.Context, path string, atime, mtime time.Time) error {
	return l.op(ctx, "chtimes", path, func(fsys fileSystem, rel string) error { return fsys.Chtimes(rel, atime, mtime) })
}

func (l *local) CreateTemp(ctx context.Context, path string) (File, string, error) {
	var f *os.File
	var tmp string
	err := l.op(ctx, "create", path, func(fsys fileSystem, rel string) (err error) {
		dir, base := filepath.Split(rel)
		f, tmp, err = createTemp(fsys, dir, base)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	dir, _ := splitPath(path)
	return localFile{f}, dir + filepath.Base(tmp), nil
}

func (l *local) Sync(ctx context.Context, path string) error {
	return l.op(ctx, "sync", path, func(fsys fileSystem, rel string) error {
		f, err := fsys.OpenFile(rel, os.O_RDONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		return syncFS(f)
	})
}

func (l *local) Sub(ctx context.Context, path string) (Host, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fsys, rel, err := l.resolve("open", path)
	if err != nil {
		return nil, err
	}
	var r *os.Root
	var dir *os.File
	if parent, ok := fsys.(*rootFS); ok {
		r, dir, err = parent.openSub(rel)
	} else {
		r, err = os.OpenRoot(rel)
	}
	if err != nil {
		return nil, l.pathErr("open", path, err)
	}
	prefix := l.prefix + filepath.Clean(path)
	if prefix == "/" {
		prefix = ""
	}
	return &local{name: l.name, root: filepath.Join(l.root, rel), sub: true, opened: newRootFS(r, dir), prefix: prefix}, nil
}

func (l *local) Machine() string { return "local" }

// RealPath resolves the longest part of path that exists and appends the
// rest, so that a folder not created yet still has a real path.
func (l *local) RealPath(ctx context.Context, path string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if _, _, err := l.resolve("realpath", path); err != nil {
		return "", err
	}
	full := filepath.Join(l.root, filepath.Clean(path))
	var rest []string
	for {
		real, err := filepath.EvalSymlinks(full)
		if err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", l.pathErr("realpath", path, err)
		}
		parent := filepath.Dir(full)
		if parent == full {
			return "", l.pathErr("realpath", path, err)
		}
		rest = append([]string{filepath.Base(full)}, rest...)
		full = parent
	}
}

// realName is the machine path of a host path, for APIs that take one
// (file watches). Symlinks are not checked: callers must not follow them.
func (l *local) realName(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("path %s is not absolute", path)
	}
	if l.root == "" {
		return filepath.Clean(path), nil
	}
	rel := strings.TrimLeft(path, "/")
	if rel != "" && !filepath.IsLocal(rel) {
		return "", ErrOutsideRoot
	}
	return filepath.Join(l.root, rel), nil
}
