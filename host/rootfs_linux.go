package host

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The operations on one name directly in the root's folder, the common
// case of a host confined to a folder (Sub), go straight to the system
// call relative to the open folder, as the root itself would make it,
// without its general path walk. Anything else, and any doubt (a symlink,
// which the root follows if it stays inside), goes through the root.

// openSub opens the folder rel below the root as a root of its own, with
// the folder open too: where the kernel can open it beneath the root
// without meeting a symlink, the root is made from that open folder
// (through /proc/self/fd, which names exactly it), two calls instead of a
// walk of the path and another open.
func (r *rootFS) openSub(rel string) (*os.Root, *os.File, error) {
	if dir, ok := openBeneath(r.dir, rel, os.O_RDONLY|unix.O_DIRECTORY, 0); ok {
		if root, err := os.OpenRoot("/proc/self/fd/" + strconv.Itoa(int(dir.Fd()))); err == nil {
			return root, dir, nil
		}
		dir.Close()
	}
	root, err := r.OpenRoot(rel)
	return root, nil, err
}

// oneName says whether name is a single entry of the folder itself.
func oneName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsRune(name, '/')
}

// at runs f with the descriptor of the root's folder; false when there
// is none.
func (r *rootFS) at(f func(dirfd int)) bool {
	if r.dir == nil {
		return false
	}
	rc, err := r.dir.SyscallConn()
	if err != nil {
		return false
	}
	return rc.Control(func(fd uintptr) { f(int(fd)) }) == nil
}

func (r *rootFS) Lstat(name string) (fs.FileInfo, error) {
	if oneName(name) {
		var st unix.Stat_t
		var err error
		if r.at(func(dirfd int) {
			_, err = retryEINTR(func() (int, error) { return 0, unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
		}) {
			if err != nil {
				return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
			}
			return newStatInfo(name, &st), nil
		}
	}
	return r.Root.Lstat(name)
}

func (r *rootFS) Lchown(name string, uid, gid int) error {
	if oneName(name) {
		var err error
		if r.at(func(dirfd int) {
			_, err = retryEINTR(func() (int, error) { return 0, unix.Fchownat(dirfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW) })
		}) {
			if err != nil {
				return &fs.PathError{Op: "lchown", Path: name, Err: err}
			}
			return nil
		}
	}
	return r.Root.Lchown(name, uid, gid)
}

// Chmod follows a final symlink (within the root): a name that is one
// (the kernel refuses to change a link's mode) goes through the root.
func (r *rootFS) Chmod(name string, mode fs.FileMode) error {
	if oneName(name) {
		var err error
		if r.at(func(dirfd int) {
			_, err = retryEINTR(func() (int, error) { return 0, unix.Fchmodat(dirfd, name, unixMode(mode), unix.AT_SYMLINK_NOFOLLOW) })
		}) && err != unix.EOPNOTSUPP && err != unix.ENOSYS && err != unix.EINVAL {
			if err != nil {
				return &fs.PathError{Op: "chmod", Path: name, Err: err}
			}
			return nil
		}
	}
	return r.Root.Chmod(name, mode)
}

// Chtimes follows a final symlink (within the root): a name that is one
// goes through the root.
func (r *rootFS) Chtimes(name string, atime, mtime time.Time) error {
	if oneName(name) {
		var err error
		link := false
		if r.at(func(dirfd int) {
			var b [1]byte
			if _, lerr := unix.Readlinkat(dirfd, name, b[:]); lerr != unix.EINVAL {
				link = true // a symlink, or no telling
				return
			}
			ts := []unix.Timespec{utime(atime), utime(mtime)}
			_, err = retryEINTR(func() (int, error) { return 0, unix.UtimesNanoAt(dirfd, name, ts, unix.AT_SYMLINK_NOFOLLOW) })
		}) && !link {
			if err != nil {
				return &fs.PathError{Op: "chtimes", Path: name, Err: err}
			}
			return nil
		}
	}
	return r.Root.Chtimes(name, atime, mtime)
}

// utime is t as utimensat takes it; the zero time leaves it unchanged.
func utime(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	return unix.NsecToTimespec(t.UnixNano())
}

// Rename refuses, as the root does, to replace a folder by anything but
// itself. A name that is new, as every file of a first sync is, needs no
// look at what it replaces: the kernel renames to it only if nothing has
// it (RENAME_NOREPLACE), one call; when something has, or the file system
// cannot tell (EINVAL), the folder check and a plain rename follow.
func (r *rootFS) Rename(from, to string) error {
	if oneName(from) && oneName(to) {
		var err error
		if r.at(func(dirfd int) {
			_, err = retryEINTR(func() (int, error) { return 0, unix.Renameat2(dirfd, from, dirfd, to, unix.RENAME_NOREPLACE) })
			if err != unix.EEXIST && err != unix.EINVAL && err != unix.ENOSYS {
				return
			}
			var dst, src unix.Stat_t
			if unix.Fstatat(dirfd, to, &dst, unix.AT_SYMLINK_NOFOLLOW) == nil && dst.Mode&unix.S_IFMT == unix.S_IFDIR {
				if err = unix.Fstatat(dirfd, from, &src, unix.AT_SYMLINK_NOFOLLOW); err == nil && (from == to || src.Dev != dst.Dev || src.Ino != dst.Ino) {
					err = unix.EEXIST
				}
				if err != nil {
					return
				}
			}
			_, err = retryEINTR(func() (int, error) { return 0, unix.Renameat(dirfd, from, dirfd, to) })
		}) {
			if err != nil {
				return &os.LinkError{Op: "renameat", Old: from, New: to, Err: err}
			}
			return nil
		}
	}
	return r.Root.Rename(from, to)
}

// statInfo is the fs.FileInfo of a fstatat, with the *syscall.Stat_t as
// os gives it in Sys.
type statInfo struct {
	name string
	sys  syscall.Stat_t
}

func newStatInfo(name string, st *unix.Stat_t) *statInfo {
	s := &statInfo{name: name}
	s.sys.Dev, s.sys.Ino, s.sys.Nlink, s.sys.Mode = st.Dev, st.Ino, st.Nlink, st.Mode
	s.sys.Uid, s.sys.Gid, s.sys.Rdev, s.sys.Size = st.Uid, st.Gid, st.Rdev, st.Size
	s.sys.Blksize, s.sys.Blocks = st.Blksize, st.Blocks
	s.sys.Atim = syscall.Timespec{Sec: st.Atim.Sec, Nsec: st.Atim.Nsec}
	s.sys.Mtim = syscall.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec}
	s.sys.Ctim = syscall.Timespec{Sec: st.Ctim.Sec, Nsec: st.Ctim.Nsec}
	return s
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.sys.Size }
func (s *statInfo) Mode() fs.FileMode  { return fileMode(s.sys.Mode) }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.sys.Mtim.Unix()) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.sys }
