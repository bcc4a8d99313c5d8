package host

import (
	"errors"
	"io/fs"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func (f localFile) PunchHole(off, n int64) error {
	fi, err := f.File.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.ErrUnsupported
	}
	err = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return errors.ErrUnsupported
	}
	if err != nil {
		return &fs.PathError{Op: "punch hole", Path: f.Name(), Err: err}
	}
	return nil
}

func (f localFile) DropCache(off, n int64) error {
	if err := unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED); err != nil {
		return &fs.PathError{Op: "fadvise", Path: f.Name(), Err: err}
	}
	return nil
}

func (f localFile) WriteBack(off, n int64) error {
	err := unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
	if err != nil && !errors.Is(err, unix.ESPIPE) {
		return &fs.PathError{Op: "sync_file_range", Path: f.Name(), Err: err}
	}
	return nil
}

func (f localFile) Prefetch(off, n int64) error {
	if err := unix.Fadvise(int(f.Fd()), off, n, unix.FADV_WILLNEED); err != nil {
		return &fs.PathError{Op: "fadvise", Path: f.Name(), Err: err}
	}
	return nil
}

func (f localFile) Sequential() error {
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_SEQUENTIAL); err != nil {
		return &fs.PathError{Op: "fadvise", Path: f.Name(), Err: err}
	}
	return nil
}

// SetModTime is futimens: utimensat on the file itself, which the
// x/sys/unix package does not wrap (its UtimesNanoAt takes a name).
func (f localFile) SetModTime(mtime time.Time) error {
	ts := [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(mtime.UnixNano())}
	_, err := retryEINTR(func() (int, error) {
		_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, f.Fd(), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
		if errno != 0 {
			return 0, errno
		}
		return 0, nil
	})
	if err != nil {
		return &fs.PathError{Op: "futimens", Path: f.Name(), Err: err}
	}
	return nil
}
