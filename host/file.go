package host

import (
	"context"
	"io"
	"io/fs"
	"os"
	"time"
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
	// Sequential tells the host that the file is about to be read from
	// start to end, so that it reads further ahead. Best effort.
	Sequential() error
	// Prefetch starts reading n bytes at off into the host's page cache
	// without waiting for them, so that a read of them soon after finds
	// them there. Best effort.
	Prefetch(off, n int64) error
	// WriteBack starts writing what was written to n bytes at off to the
	// medium without waiting for it, so that writeback overlaps the work
	// that follows and the Sync that makes it durable has little left to
	// do. Best effort: it makes nothing durable.
	WriteBack(off, n int64) error
	Close() error
}

// MetadataFile is a File whose owner, mode and modification time are set
// through the open file itself: one of this machine (the local transport's,
// as the ops that run on a machine open them). A file just written gets
// its metadata that way with no lookup of its name for each, nor the check
// that the name is no symlink: it is the file itself.
type MetadataFile interface {
	File
	Chown(uid, gid int) error
	Chmod(mode fs.FileMode) error
	// SetModTime sets the modification time and leaves the access time.
	// It fails with errors.ErrUnsupported where the system cannot: callers
	// set it by the file's name.
	SetModTime(mtime time.Time) error
}

// StreamFile is a File whose bytes can also cross as one raw stream, past
// the protocol of its calls (a file open in the agent of an SSH host): a
// copy between two of them moves each byte through the copier once, with
// one buffer. Either method fails with an error wrapping
// errors.ErrUnsupported where there is no such stream (the calls then
// copy). A stream ends with ctx, on both machines.
type StreamFile interface {
	File
	// ReadStream streams the n bytes at off: fewer if the file ends first.
	ReadStream(ctx context.Context, off, n int64) (io.ReadCloser, error)
	// WriteStream writes what it is given into the file from off, at
	// most n bytes. Its Close returns once all of it is in the file, or
	// fails.
	WriteStream(ctx context.Context, off, n int64) (io.WriteCloser, error)
	// Compresses says whether data like sample crosses smaller through
	// the calls, which compress it, than raw: a copier writing data of
	// its own then takes the calls. (What ReadStream would send is judged
	// on the machine that reads it.)
	Compresses(sample []byte) bool
}

// localFile is a File of the local transport.
type localFile struct{ *os.File }
