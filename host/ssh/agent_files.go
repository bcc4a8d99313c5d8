package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/agent"
)

// The operations below go through the agent where the machine runs one,
// and through SFTP (or a tool run with exec) where it does not. The agent
// resolves each path below the root with os.Root on the machine, in the
// same system call that acts on it; over SFTP a path is resolved first
// (resolve) and acted on after.

// agentErr names the host and path in an error of an operation through
// the agent that did not come from the agent itself (which names them).
func (h *Host) agentErr(op, p string, err error) error {
	var remote *agent.RemoteError
	if err == nil || errors.As(err, &remote) {
		return err
	}
	return h.pathErr(op, p, err)
}

// Lstat through the agent tells owners and inodes (host.StatOf).
func (h *Host) Lstat(ctx context.Context, p string) (fs.FileInfo, error) {
	var fi fs.FileInfo
	err := h.withAgent(ctx, true, func(a *agent.Client) (err error) {
		fi, err = a.Lstat(ctx, h.scope(), p)
		return err
	})
	if errors.Is(err, errNoAgent) {
		return h.sftpLstat(ctx, p)
	}
	return fi, h.agentErr("lstat", p, err)
}

// ReadDirStat through the agent tells owners and inodes (HasStat).
func (h *Host) ReadDirStat(ctx context.Context, p string) ([]host.EntryStat, error) {
	var entries []host.EntryStat
	err := h.withAgent(ctx, true, func(a *agent.Client) (err error) {
		entries, err = a.ReadDirStat(ctx, h.scope(), p)
		return err
	})
	if errors.Is(err, errNoAgent) {
		return h.sftpReadDirStat(ctx, p)
	}
	return entries, h.agentErr("readdir", p, err)
}

// Sync through the agent is syncfs on the machine; without one it runs
// sync -f there.
func (h *Host) Sync(ctx context.Context, p string) error {
	err := h.withAgent(ctx, true, func(a *agent.Client) error { return a.Sync(ctx, h.scope(), p) })
	if errors.Is(err, errNoAgent) {
		return h.sftpSync(ctx, p)
	}
	return h.agentErr("sync", p, err)
}

// WriteFile through the agent is the local transport's on the machine:
// the folder is synced after the rename too, which SFTP cannot do.
func (h *Host) WriteFile(ctx context.Context, p string, r io.Reader, mode fs.FileMode) error {
	started := false
	err := h.withAgent(ctx, false, func(a *agent.Client) error {
		started = true
		return a.WriteFile(ctx, h.scope(), p, r, mode)
	})
	if errors.Is(err, errNoAgent) && !started {
		return h.sftpWriteFile(ctx, p, r, mode)
	}
	return h.agentErr("write", p, err)
}

// OpenFile through the agent gives a file whose holes can be punched, and
// a block device whose size Seek tells; without one, an SFTP handle.
func (h *Host) OpenFile(ctx context.Context, p string, flag int, perm fs.FileMode) (host.File, error) {
	var f *agent.File
	err := h.withAgent(ctx, flag&os.O_EXCL == 0, func(a *agent.Client) (err error) {
		f, err = a.OpenFile(ctx, h.scope(), p, flag, perm)
		return err
	})
	if errors.Is(err, errNoAgent) {
		return h.sftpOpenFile(ctx, p, flag, perm)
	}
	if err != nil {
		return nil, h.agentErr("open", p, err)
	}
	return agentFile{f, h, p}, nil
}

// CreateTemp through the agent creates the file where the path resolves
// below the root, in one call.
func (h *Host) CreateTemp(ctx context.Context, p string) (host.File, string, error) {
	var f *agent.File
	var tmp string
	err := h.withAgent(ctx, true, func(a *agent.Client) (err error) {
		f, tmp, err = a.CreateTemp(ctx, h.scope(), p)
		return err
	})
	if errors.Is(err, errNoAgent) {
		return h.sftpCreateTemp(ctx, p)
	}
	if err != nil {
		return nil, "", h.agentErr("create", p, err)
	}
	return agentFile{f, h, tmp}, tmp, nil
}

// Reflink needs the FICLONE ioctl on the machine: the agent's.
func (h *Host) Reflink(ctx context.Context, src, dst string) error {
	err := h.withAgent(ctx, false, func(a *agent.Client) error { return a.Reflink(ctx, h.scope(), src, dst) })
	if errors.Is(err, errNoAgent) {
		return h.pathErr("reflink", dst, fmt.Errorf("cloning a file needs the agent on the machine (%w): %w", err, errors.ErrUnsupported))
	}
	return h.agentErr("reflink", dst, err)
}

// Watch needs inotify on the machine: the agent's. The connection counts
// as in use while the watch lasts, so that the idle timeout leaves it.
func (h *Host) Watch(ctx context.Context, p string) (<-chan host.WatchEvent, error) {
	var events <-chan host.WatchEvent
	err := h.withAgent(ctx, true, func(a *agent.Client) (err error) {
		events, err = a.Watch(ctx, h.scope(), p)
		return err
	})
	if errors.Is(err, errNoAgent) {
		return nil, h.pathErr("watch", p, fmt.Errorf("watching a folder needs the agent on the machine (%w): %w", err, errors.ErrUnsupported))
	}
	if err != nil {
		return nil, h.agentErr("watch", p, err)
	}
	release := h.c.hold()
	out := make(chan host.WatchEvent)
	go func() {
		defer release()
		defer close(out)
		for ev := range events {
			if ev.Err != nil && connectionLost(ev.Err) {
				ev.Err = h.pathErr("watch", p, unreachable{fmt.Errorf("the connection to %s ended: %w", h.c.addr, ev.Err)})
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				// The caller may have stopped reading: the events
				// left end with the watch.
				for range events {
				}
				return
			}
		}
	}()
	return out, nil
}

// Tripwire needs inotify on the machine: the agent's.
func (h *Host) Tripwire(ctx context.Context, p string) (host.Tripwire, error) {
	var tw host.Tripwire
	err := h.withAgent(ctx, true, func(a *agent.Client) (err error) {
		tw, err = a.Tripwire(ctx, h.scope(), p)
		return err
	})
	if errors.Is(err, errNoAgent) {
		return nil, h.pathErr("tripwire", p, fmt.Errorf("a tripwire needs the agent on the machine (%w): %w", err, errors.ErrUnsupported))
	}
	if err != nil {
		return nil, h.agentErr("tripwire", p, err)
	}
	return agentTripwire{tw, h}, nil
}

// agentTripwire names the host in the errors of a tripwire's listings
// that the connection's end caused.
type agentTripwire struct {
	host.Tripwire
	h *Host
}

func (t agentTripwire) ReadDirStat(ctx context.Context, p string) ([]host.EntryStat, error) {
	entries, err := t.Tripwire.ReadDirStat(ctx, p)
	if err != nil && connectionLost(err) {
		err = unreachable{fmt.Errorf("the connection to %s ended: %w", t.h.c.addr, err)}
	}
	return entries, t.h.agentErr("readdir", p, err)
}

// Invoke runs an op on the machine with the tripwire at hand there
// (host.CallWatched).
func (t agentTripwire) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	out, err := t.Tripwire.(host.Invoker).Invoke(ctx, name, req)
	if err != nil && connectionLost(err) {
		err = unreachable{fmt.Errorf("the connection to %s ended: %w", t.h.c.addr, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("host %q: op %s: %w", t.h.name, name, err)
	}
	return out, nil
}

// hold counts the connection as in use until release is called.
func (c *connector) hold() (release func()) {
	c.mu.Lock()
	c.active++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.active--
		c.lastUsed = time.Now()
		c.mu.Unlock()
	}
}

// agentFile is a file open in the agent. As an SFTP handle, it lives on one
// connection and dies with it: its errors then name the host, the path and
// the connection that ended.
type agentFile struct {
	*agent.File
	h    *Host
	path string
}

func (f agentFile) err(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if connectionLost(err) {
		err = unreachable{fmt.Errorf("the connection to %s ended (its sshd or the machine went down, or the network failed): %w", f.h.c.addr, err)}
	}
	return f.h.agentErr(op, f.path, err)
}

func (f agentFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	return n, f.err("read", err)
}

func (f agentFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	return n, f.err("read", err)
}

func (f agentFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	return n, f.err("write", err)
}

func (f agentFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	return n, f.err("write", err)
}

func (f agentFile) WriteTo(w io.Writer) (int64, error) {
	n, err := f.File.WriteTo(w)
	return n, f.err("read", err)
}

func (f agentFile) ReadFrom(r io.Reader) (int64, error) {
	n, err := f.File.ReadFrom(r)
	return n, f.err("write", err)
}

func (f agentFile) Seek(off int64, whence int) (int64, error) {
	n, err := f.File.Seek(off, whence)
	return n, f.err("seek", err)
}

func (f agentFile) Stat() (fs.FileInfo, error) {
	fi, err := f.File.Stat()
	return fi, f.err("stat", err)
}

func (f agentFile) Sync() error               { return f.err("sync", f.File.Sync()) }
func (f agentFile) Truncate(size int64) error { return f.err("truncate", f.File.Truncate(size)) }
func (f agentFile) PunchHole(off, n int64) error {
	return f.err("punch hole", f.File.PunchHole(off, n))
}
func (f agentFile) Close() error { return f.err("close", f.File.Close()) }

// pathOp runs op through the agent, or fallback without one.
func (h *Host) pathOp(ctx context.Context, name, p string, idempotent bool, op *agent.PathOp, fallback func() (string, error)) (string, error) {
	var out string
	err := h.withAgent(ctx, idempotent, func(a *agent.Client) (err error) {
		out, err = a.Do(ctx, h.scope(), op)
		return err
	})
	if errors.Is(err, errNoAgent) {
		return fallback()
	}
	return out, h.agentErr(name, p, err)
}

// noResult adapts an operation without a result for pathOp.
func noResult(f func() error) func() (string, error) {
	return func() (string, error) { return "", f() }
}

// Chtimes through the agent keeps nanoseconds; SFTP's setstat has whole
// seconds.
func (h *Host) Chtimes(ctx context.Context, p string, atime, mtime time.Time) error {
	_, err := h.pathOp(ctx, "chtimes", p, true, &agent.PathOp{Op: agent.Chtimes, Path: p, Atime: atime.UnixNano(), Mtime: mtime.UnixNano()},
		noResult(func() error { return h.sftpChtimes(ctx, p, atime, mtime) }))
	return err
}

func (h *Host) Chmod(ctx context.Context, p string, mode fs.FileMode) error {
	_, err := h.pathOp(ctx, "chmod", p, true, &agent.PathOp{Op: agent.Chmod, Path: p, Mode: uint32(mode)},
		noResult(func() error { return h.sftpChmod(ctx, p, mode) }))
	return err
}

func (h *Host) MkdirAll(ctx context.Context, p string, mode fs.FileMode) error {
	_, err := h.pathOp(ctx, "mkdir", p, true, &agent.PathOp{Op: agent.MkdirAll, Path: p, Mode: uint32(mode)},
		noResult(func() error { return h.sftpMkdirAll(ctx, p, mode) }))
	return err
}

// Remove deletes a file or an empty folder; a missing path is not an
// error.
func (h *Host) Remove(ctx context.Context, p string) error {
	_, err := h.pathOp(ctx, "remove", p, true, &agent.PathOp{Op: agent.Remove, Path: p},
		noResult(func() error { return h.sftpRemove(ctx, p) }))
	return err
}

func (h *Host) Rename(ctx context.Context, from, to string) error {
	_, err := h.pathOp(ctx, "rename", from, false, &agent.PathOp{Op: agent.Rename, Path: from, Path2: to},
		noResult(func() error { return h.sftpRename(ctx, from, to) }))
	return err
}

func (h *Host) Symlink(ctx context.Context, target, newname string) error {
	_, err := h.pathOp(ctx, "symlink", newname, false, &agent.PathOp{Op: agent.Symlink, Path: target, Path2: newname},
		noResult(func() error { return h.sftpSymlink(ctx, target, newname) }))
	return err
}

func (h *Host) Readlink(ctx context.Context, p string) (string, error) {
	return h.pathOp(ctx, "readlink", p, true, &agent.PathOp{Op: agent.Readlink, Path: p},
		func() (string, error) { return h.sftpReadlink(ctx, p) })
}

func (h *Host) Link(ctx context.Context, oldname, newname string) error {
	_, err := h.pathOp(ctx, "link", newname, false, &agent.PathOp{Op: agent.Link, Path: oldname, Path2: newname},
		noResult(func() error { return h.sftpLink(ctx, oldname, newname) }))
	return err
}

func (h *Host) Lchown(ctx context.Context, p string, uid, gid int) error {
	_, err := h.pathOp(ctx, "lchown", p, true, &agent.PathOp{Op: agent.Lchown, Path: p, Uid: int64(uid), Gid: int64(gid)},
		noResult(func() error { return h.sftpLchown(ctx, p, uid, gid) }))
	return err
}

// ReadFile through the agent reads the file open there, in rounds of
// chunks in flight.
func (h *Host) ReadFile(ctx context.Context, p string) ([]byte, error) {
	var buf bytes.Buffer
	err := h.withAgent(ctx, true, func(a *agent.Client) error {
		f, err := a.OpenFile(ctx, h.scope(), p, os.O_RDONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		buf.Reset()
		_, err = f.WriteTo(&buf)
		return err
	})
	if errors.Is(err, errNoAgent) {
		return h.sftpReadFile(ctx, p)
	}
	if err != nil {
		return nil, h.agentErr("read", p, err)
	}
	return buf.Bytes(), nil
}
