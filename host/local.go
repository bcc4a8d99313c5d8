package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrOutsideRoot is wrapped by the error of any operation on a rooted host
// whose path would lead outside the root, through `..` or a symlink.
var ErrOutsideRoot = errors.New("path leads outside the host's root")

// ErrParentNotFolder is wrapped by the error of a write whose path passes
// through a file where a folder should be.
var ErrParentNotFolder = errors.New("a folder on its path is a file")

// ErrUnreachable is wrapped by the error of an operation that failed
// because the machine could not be reached, or the connection to it ended
// under the operation: nothing about the path, and every other operation
// on the host fails alike until it answers again.
var ErrUnreachable = errors.New("the host cannot be reached")

// NewLocal returns this machine as the host called name. With root "" paths
// are the machine's own; otherwise every path of the host is resolved below
// root (made absolute against the working folder), which is created on first
// use, and neither `..` nor a symlink can lead out of it.
func NewLocal(name, root string) Host {
	l := &local{name: name}
	if root != "" {
		abs, err := filepath.Abs(root)
		if err != nil {
			l.rootErr = fmt.Errorf("host %q: root %s: %w", name, root, err)
		}
		l.root = abs
	}
	return l
}

// local is the local transport. An unrooted host uses the os functions
// directly; a rooted one goes through an os.Root opened on first use, which
// is what keeps every path below the root, whatever symlinks it meets.
type local struct {
	name    string
	root    string
	rootErr error
	// sub says the root was opened through another host's (Sub): it is
	// never created, and only reopened by that path after Close.
	sub bool
	// prefix is the folder a Sub host is confined to, as its parent names
	// it: errors name paths as the parent host would.
	prefix string

	mu     sync.Mutex
	opened *rootFS
}

// rootFS is an open root with the folder it holds open too, for opening
// files below it in one call (openBeneath).
type rootFS struct {
	*os.Root
	dir *os.File
}

// newRootFS pairs r with dir, its folder open, or opens that itself when
// dir is nil.
func newRootFS(r *os.Root, dir *os.File) *rootFS {
	if dir == nil {
		var err error
		if dir, err = r.OpenFile(".", os.O_RDONLY, 0); err != nil {
			dir = nil
		}
	}
	return &rootFS{Root: r, dir: dir}
}

func (r *rootFS) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if f, ok := openBeneath(r.dir, name, flag, perm); ok {
		return f, nil
	}
	if oNoFollow != 0 && flag&oNoFollow != 0 {
		// The root follows a final symlink that stays inside it, whatever
		// the flags.
		return r.openNoFollow(name, flag, perm)
	}
	return r.Root.OpenFile(name, flag, perm)
}

func (r *rootFS) Close() error {
	if r.dir != nil {
		r.dir.Close()
	}
	return r.Root.Close()
}

// fileSystem is the part of os.Root the transport uses; osFS gives the
// same methods over the whole machine.
type fileSystem interface {
	OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error)
	Lstat(name string) (fs.FileInfo, error)
	Stat(name string) (fs.FileInfo, error)
	MkdirAll(name string, perm fs.FileMode) error
	Chmod(name string, mode fs.FileMode) error
	Rename(from, to string) error
	Remove(name string) error
	ReadFile(name string) ([]byte, error)
	Symlink(target, newname string) error
	Readlink(name string) (string, error)
	Link(oldname, newname string) error
	Lchown(name string, uid, gid int) error
	Chtimes(name string, atime, mtime time.Time) error
}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return openPlain(name, flag, perm)
}
func (osFS) Lstat(name string) (fs.FileInfo, error)       { return os.Lstat(name) }
func (osFS) Stat(name string) (fs.FileInfo, error)        { return os.Stat(name) }
func (osFS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }
func (osFS) Chmod(name string, mode fs.FileMode) error    { return os.Chmod(name, mode) }
func (osFS) Rename(from, to string) error                 { return os.Rename(from, to) }
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) ReadFile(name string) ([]byte, error)         { return os.ReadFile(name) }
func (osFS) Symlink(target, newname string) error         { return os.Symlink(target, newname) }
func (osFS) Readlink(name string) (string, error)         { return os.Readlink(name) }
func (osFS) Link(oldname, newname string) error           { return os.Link(oldname, newname) }
func (osFS) Lchown(name string, uid, gid int) error       { return os.Lchown(name, uid, gid) }
func (osFS) Chtimes(name string, atime, mtime time.Time) error {
	return os.Chtimes(name, atime, mtime)
}

func (l *local) Name() string { return l.name }

// resolve turns a host path into a file system and a name in it. Paths must
// be absolute; on a rooted host `..` may not climb above the root.
func (l *local) resolve(op, path string) (fileSystem, string, error) {
	if !filepath.IsAbs(path) {
		return nil, "", l.pathErr(op, path, errors.New("path is not absolute"))
	}
	if l.root == "" {
		return osFS{}, path, nil
	}
	rel := strings.TrimLeft(path, "/")
	if rel == "" {
		rel = "."
	}
	if !filepath.IsLocal(rel) {
		return nil, "", l.pathErr(op, path, ErrOutsideRoot)
	}
	r, err := l.openRoot()
	if err != nil {
		return nil, "", err
	}
	return r, rel, nil
}

func (l *local) openRoot() (*rootFS, error) {
	if l.rootErr != nil {
		return nil, l.rootErr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opened != nil {
		return l.opened, nil
	}
	if l.sub {
		if fi, err := os.Lstat(l.root); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("host %q: its folder %s is gone", l.name, l.root)
		}
	} else if err := os.MkdirAll(l.root, 0o755); err != nil {
		return nil, fmt.Errorf("host %q: creating its root: %w", l.name, err)
	}
	r, err := os.OpenRoot(l.root)
	if err != nil {
		return nil, fmt.Errorf("host %q: opening its root: %w", l.name, err)
	}
	l.opened = newRootFS(r, nil)
	return l.opened, nil
}

// pathErr reports err as being about the host's path (not the path below
// the root that os.Root saw), keeping errors.Is(err, fs.ErrNotExist) true.
func (l *local) pathErr(op, path string, err error) error {
	for {
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			break
		}
		err = pe.Err
	}
	if err.Error() == "path escapes from parent" {
		err = ErrOutsideRoot
	}
	if errors.Is(err, ErrOutsideRoot) {
		err = fmt.Errorf("%w %s", err, l.root)
	}
	if l.prefix != "" {
		path = strings.TrimSuffix(l.prefix+path, "/")
	}
	return fmt.Errorf("host %q: %w", l.name, &fs.PathError{Op: op, Path: path, Err: err})
}

func (l *local) ReadFile(ctx context.Context, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fsys, name, err := l.resolve("read", path)
	if err != nil {
		return nil, err
	}
	b, err := fsys.ReadFile(name)
	if err != nil {
		return nil, l.pathErr("read", path, err)
	}
	return b, nil
}

func (l *local) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fsys, name, err := l.resolve("open", path)
	if err != nil {
		return nil, err
	}
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, l.pathErr("open", path, err)
	}
	return f, nil
}

func (l *local) OpenFile(ctx context.Context, path string, flag int, perm fs.FileMode) (File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fsys, name, err := l.resolve("open", path)
	if err != nil {
		return nil, err
	}
	f, err := fsys.OpenFile(name, flag, perm)
	if err != nil {
		return nil, l.pathErr("open", path, err)
	}
	return localFile{f}, nil
}

func (l *local) WriteFile(ctx context.Context, path string, r io.Reader, mode fs.FileMode) error {
	fsys, name, err := l.resolve("write", path)
	if err != nil {
		return err
	}
	if err := l.writeFile(ctx, fsys, name, r, mode); err != nil {
		return l.pathErr("write", path, err)
	}
	return nil
}

// writeFile writes a temporary file beside name and renames it over name,
// syncing the file before and the folder after the rename so that a crash
// leaves the old content or the new one.
func (l *local) writeFile(ctx context.Context, fsys fileSystem, name string, r io.Reader, mode fs.FileMode) (err error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTDIR) {
			return ErrParentNotFolder
		}
		return err
	}
	f, tmp, err := createTemp(fsys, dir, base)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			fsys.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return err
	}
	// Chmod rather than the create mode: the umask must not change it.
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fsys.Rename(tmp, name); err != nil {
		return err
	}
	d, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return err
	}
	// Best effort: a leftover costs only space, and the write is done.
	if names, err := d.Readdirnames(-1); err == nil {
		for _, n := range names {
			if isTempOf(n, base) {
				fsys.Remove(filepath.Join(dir, n))
			}
		}
	}
	return nil
}

// createTemp creates a new temp file for base in the folder dir. The name
// is random and the file is created exclusively, without following a
// symlink: whoever may write to dir can plant nothing there that the
// write would go through.
func createTemp(fsys fileSystem, dir, base string) (*os.File, string, error) {
	tmp := filepath.Join(dir, tempPrefix(base)+randomHex()+tempSuffix)
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
	if err != nil {
		return nil, "", err
	}
	return f, tmp, nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (l *local) Lstat(ctx context.Context, path string) (fs.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fsys, name, err := l.resolve("lstat", path)
	if err != nil {
		return nil, err
	}
	fi, err := fsys.Lstat(name)
	if err != nil {
		return nil, l.pathErr("lstat", path, err)
	}
	return fi, nil
}

// openDir opens the folder path for listing, with the file system and
// name it resolved to.
func (l *local) openDir(ctx context.Context, path string) (fileSystem, string, *os.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", nil, err
	}
	fsys, name, err := l.resolve("readdir", path)
	if err != nil {
		return nil, "", nil, err
	}
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, "", nil, l.pathErr("readdir", path, err)
	}
	return fsys, name, f, nil
}

func (l *local) ReadDir(ctx context.Context, path string) ([]fs.DirEntry, error) {
	_, _, f, err := l.openDir(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, l.pathErr("readdir", path, err)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

func (l *local) MkdirAll(ctx context.Context, path string, mode fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fsys, name, err := l.resolve("mkdir", path)
	if err != nil {
		return err
	}
	if err := fsys.MkdirAll(name, mode); err != nil {
		return l.pathErr("mkdir", path, err)
	}
	return nil
}

func (l *local) Chmod(ctx context.Context, path string, mode fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fsys, name, err := l.resolve("chmod", path)
	if err != nil {
		return err
	}
	if err := fsys.Chmod(name, mode); err != nil {
		return l.pathErr("chmod", path, err)
	}
	return nil
}

func (l *local) Rename(ctx context.Context, from, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fsys, fromName, err := l.resolve("rename", from)
	if err != nil {
		return err
	}
	_, toName, err := l.resolve("rename", to)
	if err != nil {
		return err
	}
	if err := fsys.Rename(fromName, toName); err != nil {
		return l.pathErr("rename", from, err)
	}
	return nil
}

func (l *local) Remove(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fsys, name, err := l.resolve("remove", path)
	if err != nil {
		return err
	}
	if err := fsys.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return l.pathErr("remove", path, err)
	}
	return nil
}

func (l *local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.opened == nil {
		return nil
	}
	err := l.opened.Close()
	l.opened = nil
	return err
}
