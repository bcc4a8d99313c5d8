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

// Tripwire keeps one inotify instance with a watch per folder, each added
// through the folder's open descriptor (no name resolved again) before
// the folder is listed. The kernel queues an event in the call that makes
// the change: one read of the queue, without waiting, sees every change
// made before it.
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
	tw := &localTripwire{l: l, fd: ifd}
	if err := tw.watch(f); err != nil {
		tw.Close()
		if errors.Is(err, errors.ErrUnsupported) {
			return nil, fmt.Errorf("host %q: watching %s: %w", l.name, path, err)
		}
		return nil, l.pathErr("watch", path, err)
	}
	return tw, nil
}

type localTripwire struct {
	l       *local
	mu      sync.Mutex
	fd      int
	tripped bool
}

func (tw *localTripwire) ReadDirStat(ctx context.Context, path string) ([]EntryStat, error) {
	return tw.l.readDirStat(ctx, path, func(f *os.File) {
		if tw.watch(f) != nil {
			tw.trip()
		}
	})
}

// watch adds the open folder f.
func (tw *localTripwire) watch(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	err = rc.Control(func(fd uintptr) {
		var sfs unix.Statfs_t
		if err := unix.Fstatfs(int(fd), &sfs); err != nil {
			werr = os.NewSyscallError("fstatfs", err)
			return
		}
		if remoteFS(int64(sfs.Type)) {
			werr = fmt.Errorf("a network file system (type %#x) is changed unseen by other machines: %w", sfs.Type, errors.ErrUnsupported)
			return
		}
		tw.mu.Lock()
		defer tw.mu.Unlock()
		if tw.fd < 0 {
			werr = os.ErrClosed
			return
		}
		if _, err := unix.InotifyAddWatch(tw.fd, "/proc/self/fd/"+strconv.Itoa(int(fd)), tripMask); err != nil {
			werr = os.NewSyscallError("inotify_add_watch", err)
			if errors.Is(err, unix.ENOSPC) {
				werr = fmt.Errorf("%w (raise fs.inotify.max_user_watches for large trees)", werr)
			}
		}
	})
	return errors.Join(err, werr)
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

func (tw *localTripwire) trip() {
	tw.mu.Lock()
	tw.tripped = true
	tw.mu.Unlock()
}

func (tw *localTripwire) Tripped() bool {
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

func (tw *localTripwire) Close() error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.fd < 0 {
		return nil
	}
	err := unix.Close(tw.fd)
	tw.fd = -1
	return err
}
