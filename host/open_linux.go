package host

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noOpenat2 is set once the kernel (or a sandbox) refuses openat2.
var noOpenat2 atomic.Bool

// openBeneath opens name below the open folder dir in one call, where the
// kernel can resolve it there without meeting a symlink or climbing out
// (openat2 with RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS). ok is false when
// it cannot (a symlink on the way, which the root may follow if it stays
// inside; an error, which the root reports in its own words; an old
// kernel): the caller then opens it through the root. The file is not
// registered with the runtime's poller: files and folders gain nothing
// from it, and registering costs four more calls per open.
func openBeneath(dir *os.File, name string, flag int, perm fs.FileMode) (*os.File, bool) {
	if dir == nil || noOpenat2.Load() {
		return nil, false
	}
	rc, err := dir.SyscallConn()
	if err != nil {
		return nil, false
	}
	how := unix.OpenHow{
		Flags:   uint64(flag) | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	}
	if flag&os.O_CREATE != 0 {
		how.Mode = uint64(unixMode(perm))
	}
	fd := -1
	var oerr error
	// Control keeps dir's descriptor open (and its number ours) meanwhile.
	if err := rc.Control(func(dirfd uintptr) {
		fd, oerr = retryEINTR(func() (int, error) { return unix.Openat2(int(dirfd), name, &how) })
	}); err != nil {
		return nil, false
	}
	if oerr != nil {
		if oerr == unix.ENOSYS {
			noOpenat2.Store(true)
		}
		return nil, false
	}
	// Named as os.Root names what it opens, below the root's own name:
	// a file's name is what os.File's ReadDir lists entries by, and a
	// DirEntry's Info looks them up by it.
	return os.NewFile(uintptr(fd), filepath.Join(dir.Name(), name)), true
}

// openPlain is os.OpenFile, but the file is not registered with the
// runtime's poller (see openBeneath).
func openPlain(name string, flag int, perm fs.FileMode) (*os.File, error) {
	fd, err := retryEINTR(func() (int, error) {
		return unix.Open(name, flag|unix.O_CLOEXEC, unixMode(perm))
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// unixMode is perm as open(2) takes it.
func unixMode(perm fs.FileMode) uint32 {
	m := uint32(perm.Perm())
	if perm&fs.ModeSetuid != 0 {
		m |= unix.S_ISUID
	}
	if perm&fs.ModeSetgid != 0 {
		m |= unix.S_ISGID
	}
	if perm&fs.ModeSticky != 0 {
		m |= unix.S_ISVTX
	}
	return m
}

// openNoFollow opens name below the root without following a final
// symlink: its folder through the root, then the name in that folder.
func (r *rootFS) openNoFollow(name string, flag int, perm fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(filepath.Clean(name))
	if dir == "" {
		dir = "."
	}
	d, err := r.Root.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	fd, err := retryEINTR(func() (int, error) {
		return unix.Openat(int(d.Fd()), base, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC, unixMode(perm))
	})
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}
