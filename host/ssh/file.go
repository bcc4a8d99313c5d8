package ssh

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/pkg/sftp"
)

// file is a host.File over an SFTP handle. The page-cache hints have no
// SFTP request and are skipped (they are best effort); holes cannot be
// punched.
//
// A handle lives on one connection and dies with it: it is not reopened
// on a new one (a write half done may or may not have landed), so its
// errors name the host, the path and, when the connection ended, say so,
// as the host's own operations do.
type file struct {
	*sftp.File
	h    *Host
	path string
}

func (f file) err(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if connectionLost(err) {
		err = unreachable{fmt.Errorf("the connection to %s ended (its sshd or the machine went down, or the network failed): %w", f.h.c.addr, err)}
	}
	return f.h.pathErr(op, f.path, err)
}

func (f file) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	return n, f.err("read", err)
}

func (f file) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	return n, f.err("read", err)
}

func (f file) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	return n, f.err("write", err)
}

func (f file) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, f.err("write", err)
}

func (f file) Seek(off int64, whence int) (int64, error) {
	n, err := f.File.Seek(off, whence)
	return n, f.err("seek", err)
}

func (f file) Stat() (fs.FileInfo, error) {
	fi, err := f.File.Stat()
	return fi, f.err("stat", err)
}

func (f file) Sync() error { return f.err("sync", f.File.Sync()) }

func (f file) Truncate(size int64) error { return f.err("truncate", f.File.Truncate(size)) }

func (f file) Close() error { return f.err("close", f.File.Close()) }

func (f file) PunchHole(off, n int64) error {
	return fmt.Errorf("punching a hole over SFTP: %w", errors.ErrUnsupported)
}
func (f file) DropCache(off, n int64) error { return nil }
func (f file) Sequential() error            { return nil }
func (f file) Prefetch(off, n int64) error  { return nil }
func (f file) WriteBack(off, n int64) error { return nil }

func (f file) ReadFrom(r io.Reader) (int64, error) {
	n, err := f.File.ReadFrom(r)
	return n, f.err("write", err)
}

func (f file) WriteTo(w io.Writer) (int64, error) {
	n, err := f.File.WriteTo(w)
	return n, f.err("read", err)
}
