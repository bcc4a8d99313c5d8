package host

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// File is an open file or block device of a host, for random access: the
// changed-block copy of a drive and the undo journal that keeps it safe.
type File interface {
	io.Reader
	io.Writer
	io.ReaderAt
	io.WriterAt
	io.Seeker
	// Stat describes the open file; a block device reports size 0, its
	// size is Seek(0, io.SeekEnd).
	Stat() (fs.FileInfo, error)
	// Sync makes what was written durable.
	Sync() error
	Truncate(size int64) error
	// PunchHole deallocates n bytes at off: they read back as zeros and
	// take no space. It fails with errors.ErrUnsupported where the file
	// system or device cannot.
	PunchHole(off, n int64) error
	// DropCache evicts n bytes at off from the host's page cache, so the
	// next read of them comes from the medium (a verify pass). Best effort.
	DropCache(off, n int64) error
	Close() error
}

// localFile is a File of the local transport.
type localFile struct{ *os.File }

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
