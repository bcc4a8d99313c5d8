package blocks

import (
	"errors"
	"io"
	"io/fs"
	"runtime"

	"golang.org/x/sys/unix"
)

// windowSize is how much of a mapped source one reader maps at a time:
// large enough that mapping costs little per byte, small enough that a
// huge source never takes that much address space at once.
const windowSize = 128 << 20

// mapping is a local file or block device hashed through read-only
// mappings of it instead of read into a buffer: a read copies the bytes
// out of the page cache, which costs more than hashing them.
type mapping struct {
	fd   int
	size int64 // what is read of it: the copy's size
}

// mapSource returns the mapping of r, nil when r is not a local regular
// file or block device (a pipe, a file of a remote host): those are read.
func mapSource(r io.ReaderAt, size int64) *mapping {
	f, ok := r.(interface {
		Fd() uintptr
		Stat() (fs.FileInfo, error)
	})
	if !ok || size == 0 {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || !(fi.Mode().IsRegular() || fi.Mode()&fs.ModeDevice != 0 && fi.Mode()&fs.ModeCharDevice == 0) {
		return nil
	}
	return &mapping{fd: int(f.Fd()), size: size}
}

// window is the part of a mapping one reader has mapped.
type window struct {
	m   *mapping
	b   []byte
	off int64
}

// view returns the n bytes at off, mapping the window that holds them.
func (w *window) view(off, n int64) ([]byte, error) {
	if w.b == nil || off < w.off || off+n > w.off+int64(len(w.b)) {
		w.close()
		start := off &^ int64(unix.Getpagesize()-1)
		length := min(max(windowSize, off+n-start), w.m.size-start)
		b, err := unix.Mmap(w.m.fd, start, int(length), unix.PROT_READ, unix.MAP_SHARED)
		if err != nil {
			return nil, err
		}
		// Best effort: read ahead of the faults.
		unix.Madvise(b, unix.MADV_SEQUENTIAL)
		unix.Madvise(b, unix.MADV_WILLNEED)
		w.b, w.off = b, start
	}
	return w.b[off-w.off : off-w.off+n], nil
}

func (w *window) close() {
	if w.b != nil {
		unix.Munmap(w.b)
		w.b = nil
	}
}

// errShrunk is what reading a mapped source past its end gives.
var errShrunk = errors.New("the source changed size during the copy (it shrank while it was read); copy again once it holds still")

// faulted turns the fault of touching a mapping past the end of the file
// (SIGBUS, a panic in a goroutine that set debug.SetPanicOnFault) into
// errShrunk in *err; any other panic goes on.
func faulted(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if re, ok := r.(runtime.Error); ok {
		if _, ok := re.(interface{ Addr() uintptr }); ok {
			*err = errShrunk
			return
		}
	}
	panic(r)
}
