package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// tripMask is every change to a folder's entries, or to the folder
// itself, made through the file system. Reading (opening, listing,
// atime updates) trips nothing.
const tripMask = unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE | unix.IN_CREATE | unix.IN_DELETE |
	unix.IN_DELETE_SELF | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// Tripwire puts an inotify watch on every folder of the tree, each added
// before the folder is listed, so that a change of its entries after the
// listing is reported. The kernel queues an event in the call that makes
// the change: one read of the queue, without waiting, sees every change
// made before it. New folders need no watch of their own: making one
// already trips the tripwire.
func (l *local) Tripwire(ctx context.Context, path string) (Tripwire, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fsys, name, err := l.resolve("watch", path)
	if err != nil {
		return nil, err
	}
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, l.pathErr("watch", path, err)
	}
	defer f.Close()
	ifd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, l.pathErr("watch", path, os.NewSyscallError("inotify_init1", err))
	}
	tw := &inotifyTripwire{fd: ifd}
	rc, err := f.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) { err = tw.addTree(ctx, int(fd)) })
		err = errors.Join(err, cerr)
	}
	if err != nil {
		tw.Close()
		if errors.Is(err, errors.ErrUnsupported) {
			return nil, fmt.Errorf("host %q: watching %s: %w", l.name, path, err)
		}
		return nil, l.pathErr("watch", path, err)
	}
	return tw, nil
}

type inotifyTripwire struct {
	mu      sync.Mutex
	fd      int
	tripped bool
}

// addTree watches the open folder dirfd and, below it, every folder,
// opened one name at a time without following a symlink.
func (tw *inotifyTripwire) addTree(ctx context.Context, dirfd int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(dirfd, &sfs); err != nil {
		return os.NewSyscallError("fstatfs", err)
	}
	if remoteFS(int64(sfs.Type)) {
		return fmt.Errorf("a network file system (type %#x) is changed unseen by other machines: %w", sfs.Type, errors.ErrUnsupported)
	}
	// The folder itself, through its open descriptor: no name is
	// resolved again.
	if _, err := unix.InotifyAddWatch(tw.fd, "/proc/self/fd/"+strconv.Itoa(dirfd), tripMask); err != nil {
		if errors.Is(err, unix.ENOSPC) {
			return fmt.Errorf("inotify_add_watch: %w (raise fs.inotify.max_user_watches for large trees)", err)
		}
		return os.NewSyscallError("inotify_add_watch", err)
	}
	subdirs, err := readSubdirs(dirfd)
	if err != nil {
		return err
	}
	for _, name := range subdirs {
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			// Removed or replaced since the listing: the watch of the
			// folder above has seen it.
			continue
		}
		if err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		err = tw.addTree(ctx, fd)
		unix.Close(fd)
		if err != nil {
			return err
		}
	}
	return nil
}

// readSubdirs lists the folders in the open folder dirfd, by the type the
// listing gives or, where the file system gives none, by their metadata.
func readSubdirs(dirfd int) ([]string, error) {
	bp := direntBuffers.Get().(*[]byte)
	defer direntBuffers.Put(bp)
	buf := *bp
	var dirs []string
	for {
		n, err := retryEINTR(func() (int, error) { return unix.Getdents(dirfd, buf) })
		if err != nil {
			return nil, os.NewSyscallError("getdents", err)
		}
		if n <= 0 {
			return dirs, nil
		}
		for off := 0; off < n; {
			reclen := int(nativeUint16(buf[off+direntReclen:]))
			typ := buf[off+direntType]
			name := direntName(buf[off+direntNameOff : off+reclen])
			off += reclen
			if string(name) == "." || string(name) == ".." {
				continue
			}
			if typ == unix.DT_UNKNOWN {
				var st unix.Stat_t
				if err := unix.Fstatat(dirfd, string(name), &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
					typ = unix.DT_DIR
				}
			}
			if typ == unix.DT_DIR {
				dirs = append(dirs, string(name))
			}
		}
	}
}

// remoteFS says whether a file system's type is one that other machines
// change too, where inotify sees only this machine's changes.
func remoteFS(typ int64) bool {
	switch typ {
	case unix.NFS_SUPER_MAGIC, unix.SMB_SUPER_MAGIC, unix.SMB2_SUPER_MAGIC, unix.CIFS_SUPER_MAGIC, unix.CEPH_SUPER_MAGIC,
		unix.V9FS_MAGIC, unix.AFS_FS_MAGIC, unix.AFS_SUPER_MAGIC, unix.CODA_SUPER_MAGIC, unix.OCFS2_SUPER_MAGIC,
		unix.FUSE_SUPER_MAGIC:
		return true
	}
	return false
}

func (tw *inotifyTripwire) Tripped() bool {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.tripped || tw.fd < 0 {
		return true
	}
	var buf [4096]byte
	n, err := unix.Read(tw.fd, buf[:])
	if n > 0 || err != unix.EAGAIN {
		tw.tripped = true
	}
	return tw.tripped
}

func (tw *inotifyTripwire) Close() error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.fd < 0 {
		return nil
	}
	err := unix.Close(tw.fd)
	tw.fd = -1
	return err
}
