package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// readDirStat lists the open folder f with one getdents per batch of names
// and one fstatat per entry relative to the folder: a name is never
// resolved from the root again, and a symlink is never followed.
func readDirStat(ctx context.Context, _ fileSystem, _ string, f *os.File) ([]EntryStat, EntryErrors, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	var out []EntryStat
	var bad EntryErrors
	var readErr error
	if err := rc.Control(func(fd uintptr) { out, bad, readErr = readDirFD(ctx, int(fd)) }); err != nil {
		return nil, nil, err
	}
	return out, bad, readErr
}

var direntBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// Offsets in a struct linux_dirent64.
const (
	direntReclen = 16
	direntName   = 19
)

func readDirFD(ctx context.Context, fd int) ([]EntryStat, EntryErrors, error) {
	names, err := readNames(fd)
	if err != nil {
		return nil, nil, err
	}
	// Sorted names give a sorted list: sorting the entries would move far
	// more bytes.
	slices.Sort(names)
	out := make([]EntryStat, 0, len(names))
	var bad EntryErrors
	for i, name := range names {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		var st unix.Stat_t
		_, err := retryEINTR(func() (int, error) { return 0, unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			bad = append(bad, EntryError{Name: name, Err: err})
			continue
		}
		out = append(out, EntryStat{Name: name})
		e := &out[len(out)-1]
		fillEntry(e, &st)
		if e.Mode&fs.ModeSymlink != 0 {
			if e.Link, err = readlinkat(fd, name); err != nil {
				out = out[:len(out)-1]
				if !errors.Is(err, unix.ENOENT) {
					bad = append(bad, EntryError{Name: name, Err: err})
				}
			}
		}
	}
	return out, bad, nil
}

// readNames reads every name of the open folder fd but "." and "..".
func readNames(fd int) ([]string, error) {
	bp := direntBuffers.Get().(*[]byte)
	defer direntBuffers.Put(bp)
	buf := *bp
	var names []string
	for {
		n, err := retryEINTR(func() (int, error) { return unix.Getdents(fd, buf) })
		if err != nil {
			return nil, os.NewSyscallError("getdents", err)
		}
		if n <= 0 {
			return names, nil
		}
		for off := 0; off < n; {
			reclen := int(binary.NativeEndian.Uint16(buf[off+direntReclen:]))
			name := buf[off+direntName : off+reclen]
			off += reclen
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if string(name) != "." && string(name) != ".." {
				names = append(names, string(name))
			}
		}
	}
}

func fillEntry(e *EntryStat, st *unix.Stat_t) {
	e.Mode, e.Size, e.MTime = fileMode(st.Mode), st.Size, st.Mtim.Nano()
	e.Dev, e.Ino, e.Blocks = uint64(st.Dev), st.Ino, st.Blocks
	e.UID, e.GID, e.Nlink = st.Uid, st.Gid, uint32(st.Nlink)
	e.HasStat = true
}

// fileMode is a stat's st_mode as fs.FileMode, as os gives it.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

func readlinkat(fd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		b := make([]byte, size)
		n, err := retryEINTR(func() (int, error) { return unix.Readlinkat(fd, name, b) })
		if err != nil {
			return "", err
		}
		if n < size {
			return string(b[:n]), nil
		}
	}
}

func retryEINTR(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != unix.EINTR {
			return n, err
		}
	}
}
