package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/pkg/sftp"
)

// maxLinks bounds the symlinks followed while resolving one path, as the
// kernel's ELOOP does.
const maxLinks = 40

// pathErr reports err as being about the host's path, keeping
// errors.Is(err, fs.ErrNotExist) and the like true.
func (h *Host) pathErr(op, p string, err error) error {
	lost := errors.Is(err, host.ErrUnreachable)
	for {
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			break
		}
		err = pe.Err
	}
	if errors.Is(err, host.ErrOutsideRoot) {
		err = fmt.Errorf("%w %s", err, h.root)
	}
	if lost && !errors.Is(err, host.ErrUnreachable) {
		err = unreachable{err}
	}
	if h.prefix != "" {
		p = strings.TrimSuffix(h.prefix+p, "/")
	}
	return fmt.Errorf("host %q: %w", h.name, &fs.PathError{Op: op, Path: p, Err: err})
}

// resolveRoot finds the root as the machine names it, symlinks resolved,
// creating it on first use (a Sub host's folder must exist): through the
// agent where it serves the host (which makes the root as it starts),
// else over SFTP.
func (h *Host) resolveRoot(ctx context.Context) (string, error) {
	h.rootMu.Lock()
	defer h.rootMu.Unlock()
	if h.realRoot != "" {
		return h.realRoot, nil
	}
	real, err := agentCall[pathRequest, string](ctx, h, opRealPath, pathRequest{"/"})
	if err == nil {
		h.realRoot = real
		return real, nil
	}
	if !errors.Is(err, errNoAgent) {
		return "", fmt.Errorf("host %q: its root %s: %w", h.name, h.root, err)
	}
	err = h.sftpDo(ctx, true, func(sc *sftpSession) error {
		if !h.sub {
			if err := sc.sftp.MkdirAll(h.root); err != nil {
				return err
			}
		}
		real, err := sc.sftp.RealPath(h.root)
		if err != nil {
			return err
		}
		fi, err := sc.sftp.Stat(real)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return errors.New("not a folder")
		}
		h.realRoot = real
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("host %q: its root %s: %w", h.name, h.root, err)
	}
	return h.realRoot, nil
}

// resolve turns a host path into the path the machine acts on. Without a
// root it is the path itself. With one, `..` may not climb above the
// root, and the path is resolved on the machine (SFTP realpath, readlink)
// so that no symlink leads out: follow says whether a final symlink is
// followed too. Paths not there yet resolve through their nearest
// existing folder.
//
// Between resolving and acting the path may change on the machine (a
// folder swapped for a symlink by someone who can write below the root):
// confinement holds against the tree as it was when resolved.
func (h *Host) resolve(ctx context.Context, op, p string, follow bool) (string, error) {
	if !path.IsAbs(p) {
		return "", h.pathErr(op, p, errors.New("path is not absolute"))
	}
	if h.root == "" {
		return path.Clean(p), nil
	}
	rel := strings.TrimLeft(p, "/")
	if rel == "" {
		rel = "."
	}
	if !filepath.IsLocal(rel) {
		return "", h.pathErr(op, p, host.ErrOutsideRoot)
	}
	root, err := h.resolveRoot(ctx)
	if err != nil {
		return "", err
	}
	full := path.Join(root, rel)
	if full == root {
		// The root itself, resolved already: its parent, which a final
		// component's resolution starts from, is outside.
		return root, nil
	}
	real, err := h.realPathOf(ctx, p, full, follow)
	if err != nil {
		return "", h.agentErr(op, p, err)
	}
	if real != root && !strings.HasPrefix(real, root+"/") {
		return "", h.pathErr(op, p, host.ErrOutsideRoot)
	}
	return real, nil
}

// realPathOf resolves the host path p, full as the machine names it, on
// the machine: through the agent where it serves the host, else over SFTP.
// follow says whether a final symlink is followed too.
func (h *Host) realPathOf(ctx context.Context, p, full string, follow bool) (string, error) {
	dir, base := p, ""
	if !follow {
		dir, base = path.Dir(p), path.Base(p)
	}
	real, err := agentCall[pathRequest, string](ctx, h, opRealPath, pathRequest{dir})
	if err == nil {
		return path.Join(real, base), nil
	}
	if !errors.Is(err, errNoAgent) {
		return "", err
	}
	err = h.sftpDo(ctx, true, func(sc *sftpSession) error {
		links := 0
		if follow {
			real, err = h.realPath(sc, full, &links)
			return err
		}
		if real, err = h.realPath(sc, path.Dir(full), &links); err != nil {
			return err
		}
		real = path.Join(real, base)
		return nil
	})
	return real, err
}

// realPath resolves every symlink of p on the machine, also where its
// last parts do not exist yet (where SFTP's realpath fails).
func (h *Host) realPath(sc *sftpSession, p string, links *int) (string, error) {
	real, err := sc.sftp.RealPath(p)
	if err == nil {
		return real, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || p == "/" {
		return "", err
	}
	fi, lerr := sc.sftp.Lstat(p)
	switch {
	case lerr == nil && fi.Mode()&fs.ModeSymlink != 0:
		// A symlink to a missing target: resolve the target.
		if *links++; *links > maxLinks {
			return "", errors.New("too many levels of symbolic links")
		}
		target, err := sc.sftp.ReadLink(p)
		if err != nil {
			return "", err
		}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(p), target)
		}
		return h.realPath(sc, path.Clean(target), links)
	case lerr == nil, !errors.Is(lerr, fs.ErrNotExist):
		return "", err
	}
	dir, base := path.Split(p)
	real, err = h.realPath(sc, path.Clean(dir), links)
	if err != nil {
		return "", err
	}
	return path.Join(real, base), nil
}

func (h *Host) sftpReadFile(ctx context.Context, p string) ([]byte, error) {
	name, err := h.resolve(ctx, "read", p, true)
	if err != nil {
		return nil, err
	}
	var b []byte
	err = h.sftpDo(ctx, true, func(sc *sftpSession) error {
		f, err := sc.sftp.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		var buf bytes.Buffer
		if _, err := f.WriteTo(&buf); err != nil {
			return err
		}
		b = buf.Bytes()
		return nil
	})
	if err != nil {
		return nil, h.pathErr("read", p, err)
	}
	return b, nil
}

func (h *Host) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	return h.OpenFile(ctx, p, os.O_RDONLY, 0)
}

// sftpOpenFile opens a file through an SFTP handle, which reads and writes at
// any offset; see file for what SFTP cannot do.
func (h *Host) sftpOpenFile(ctx context.Context, p string, flag int, perm fs.FileMode) (host.File, error) {
	name, err := h.resolve(ctx, "open", p, true)
	if err != nil {
		return nil, err
	}
	var f *sftp.File
	err = h.sftpDo(ctx, flag&os.O_EXCL == 0, func(sc *sftpSession) error {
		// SFTP creates a file with the server's default mode: set perm
		// on a file this call made, known by O_EXCL or by its absence.
		created := flag&os.O_CREATE != 0
		if created && flag&os.O_EXCL == 0 {
			_, err := sc.sftp.Stat(name)
			created = errors.Is(err, fs.ErrNotExist)
		}
		if f, err = sc.sftp.OpenFile(name, flag); err != nil {
			// SFTP version 3 has no "file exists" status: OpenSSH's
			// server says only "Failure", which callers cannot tell
			// from a real one.
			var status *sftp.StatusError
			if flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL && errors.As(err, &status) && status.FxCode() == sftp.ErrSSHFxFailure {
				if _, serr := sc.sftp.Lstat(name); serr == nil {
					return fmt.Errorf("%w: %w", fs.ErrExist, err)
				}
			}
			return err
		}
		if created {
			if err := f.Chmod(perm); err != nil {
				f.Close()
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, h.pathErr("open", p, err)
	}
	return file{f, h, p}, nil
}

// sftpWriteFile writes a temp file of a random name beside the target,
// created exclusively, syncs it where the server has fsync@openssh.com and
// renames it over the target (posix-rename@openssh.com where the server
// has it). SFTP cannot sync a folder: that the rename itself survives a
// crash of the machine rests on its file system.
func (h *Host) sftpWriteFile(ctx context.Context, p string, r io.Reader, mode fs.FileMode) error {
	name, err := h.resolve(ctx, "write", p, false)
	if err != nil {
		return err
	}
	err = h.sftpDo(ctx, false, func(sc *sftpSession) error { return h.writeFile(ctx, sc, name, r, mode) })
	if err != nil {
		return h.pathErr("write", p, err)
	}
	return nil
}

func (h *Host) writeFile(ctx context.Context, sc *sftpSession, name string, r io.Reader, mode fs.FileMode) (err error) {
	dir := path.Dir(name)
	if err := sc.sftp.MkdirAll(dir); err != nil {
		if fi, serr := sc.sftp.Stat(dir); serr == nil && !fi.IsDir() {
			return host.ErrParentNotFolder
		}
		return err
	}
	tmp := host.TempPath(name)
	f, err := sc.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			sc.sftp.Remove(tmp)
		}
	}()
	if _, err := f.ReadFrom(ctxReader{ctx, r}); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if sc.fsync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return rename(sc, tmp, name)
}

func rename(sc *sftpSession, from, to string) error {
	if sc.posixRename {
		return sc.sftp.PosixRename(from, to)
	}
	return sc.sftp.Rename(from, to)
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (h *Host) sftpLstat(ctx context.Context, p string) (fs.FileInfo, error) {
	name, err := h.resolve(ctx, "lstat", p, false)
	if err != nil {
		return nil, err
	}
	var fi fs.FileInfo
	err = h.sftpDo(ctx, true, func(sc *sftpSession) (err error) {
		fi, err = sc.sftp.Lstat(name)
		return err
	})
	if err != nil {
		return nil, h.pathErr("lstat", p, err)
	}
	return fi, nil
}

func (h *Host) sftpReadDir(ctx context.Context, p string) ([]fs.DirEntry, error) {
	name, err := h.resolve(ctx, "readdir", p, true)
	if err != nil {
		return nil, err
	}
	var list []fs.FileInfo
	err = h.sftpDo(ctx, true, func(sc *sftpSession) (err error) {
		list, err = sc.sftp.ReadDirContext(ctx, name)
		return err
	})
	if err != nil {
		return nil, h.pathErr("readdir", p, err)
	}
	entries := make([]fs.DirEntry, len(list))
	for i, fi := range list {
		entries[i] = fs.FileInfoToDirEntry(fi)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// sftpReadDirStat lists a folder in one SFTP readdir, whose entries carry
// what lstat tells, and reads each symlink's target. SFTP tells owners but
// not devices and inodes, so HasStat stays false.
func (h *Host) sftpReadDirStat(ctx context.Context, p string) ([]host.EntryStat, error) {
	name, err := h.resolve(ctx, "readdir", p, true)
	if err != nil {
		return nil, err
	}
	var entries []host.EntryStat
	var bad host.EntryErrors
	err = h.sftpDo(ctx, true, func(sc *sftpSession) error {
		list, err := sc.sftp.ReadDirContext(ctx, name)
		if err != nil {
			return err
		}
		entries, bad = entries[:0], bad[:0]
		for _, fi := range list {
			e := host.EntryStat{Name: fi.Name(), Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Mode: fi.Mode()}
			if fi.Mode()&fs.ModeSymlink != 0 {
				target, err := sc.sftp.ReadLink(path.Join(name, fi.Name()))
				switch {
				case errors.Is(err, fs.ErrNotExist):
					continue
				case connectionLost(err):
					return err
				case err != nil:
					bad = append(bad, host.EntryError{Name: fi.Name(), Err: err})
					continue
				}
				e.Link = target
			}
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		return nil, h.pathErr("readdir", p, err)
	}
	slices.SortFunc(entries, func(a, b host.EntryStat) int { return strings.Compare(a.Name, b.Name) })
	if len(bad) > 0 {
		dir := strings.TrimSuffix(p, "/") + "/"
		for i := range bad {
			bad[i].Err = h.pathErr("readlink", dir+bad[i].Name, bad[i].Err)
		}
		return entries, bad
	}
	return entries, nil
}

// sftpMkdirAll makes the missing folders of p with mode (SFTP's mkdir leaves
// the mode to the server, so each new folder is chmod-ed).
func (h *Host) sftpMkdirAll(ctx context.Context, p string, mode fs.FileMode) error {
	name, err := h.resolve(ctx, "mkdir", p, true)
	if err != nil {
		return err
	}
	err = h.sftpDo(ctx, true, func(sc *sftpSession) error { return mkdirAll(sc, name, mode) })
	if err != nil {
		return h.pathErr("mkdir", p, err)
	}
	return nil
}

func mkdirAll(sc *sftpSession, name string, mode fs.FileMode) error {
	fi, err := sc.sftp.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return errNotFolder
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if parent := path.Dir(name); parent != name {
		if err := mkdirAll(sc, parent, mode); err != nil {
			return err
		}
	}
	if err := sc.sftp.Mkdir(name); err != nil {
		// Made meanwhile by someone else: fine if it is a folder.
		if fi, serr := sc.sftp.Stat(name); serr == nil && fi.IsDir() {
			return nil
		}
		return err
	}
	return sc.sftp.Chmod(name, mode)
}

var errNotFolder = errors.New("not a folder")

func (h *Host) sftpChmod(ctx context.Context, p string, mode fs.FileMode) error {
	name, err := h.resolve(ctx, "chmod", p, true)
	if err != nil {
		return err
	}
	if err := h.sftpDo(ctx, true, func(sc *sftpSession) error { return sc.sftp.Chmod(name, mode) }); err != nil {
		return h.pathErr("chmod", p, err)
	}
	return nil
}

func (h *Host) sftpRename(ctx context.Context, from, to string) error {
	fromName, err := h.resolve(ctx, "rename", from, false)
	if err != nil {
		return err
	}
	toName, err := h.resolve(ctx, "rename", to, false)
	if err != nil {
		return err
	}
	if err := h.sftpDo(ctx, false, func(sc *sftpSession) error { return rename(sc, fromName, toName) }); err != nil {
		return h.pathErr("rename", from, err)
	}
	return nil
}

// sftpRemove deletes a file or an empty folder, and a temp file a killed
// writer left beside it.
func (h *Host) sftpRemove(ctx context.Context, p string) error {
	name, err := h.resolve(ctx, "remove", p, false)
	if err != nil {
		return err
	}
	err = h.sftpDo(ctx, true, func(sc *sftpSession) error {
		err := sc.sftp.Remove(name)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		return err
	})
	if err != nil {
		return h.pathErr("remove", p, err)
	}
	return nil
}

func (h *Host) sftpSymlink(ctx context.Context, target, newname string) error {
	name, err := h.resolve(ctx, "symlink", newname, false)
	if err != nil {
		return err
	}
	if err := h.sftpDo(ctx, false, func(sc *sftpSession) error { return sc.sftp.Symlink(target, name) }); err != nil {
		return h.pathErr("symlink", newname, err)
	}
	return nil
}

func (h *Host) sftpReadlink(ctx context.Context, p string) (string, error) {
	name, err := h.resolve(ctx, "readlink", p, false)
	if err != nil {
		return "", err
	}
	var target string
	err = h.sftpDo(ctx, true, func(sc *sftpSession) (err error) {
		target, err = sc.sftp.ReadLink(name)
		return err
	})
	if err != nil {
		return "", h.pathErr("readlink", p, err)
	}
	return target, nil
}

// sftpLink makes a hard link through hardlink@openssh.com.
func (h *Host) sftpLink(ctx context.Context, oldname, newname string) error {
	oldName, err := h.resolve(ctx, "link", oldname, false)
	if err != nil {
		return err
	}
	newName, err := h.resolve(ctx, "link", newname, false)
	if err != nil {
		return err
	}
	if err := h.sftpDo(ctx, false, func(sc *sftpSession) error { return sc.sftp.Link(oldName, newName) }); err != nil {
		return h.pathErr("link", newname, err)
	}
	return nil
}

// sftpLchown runs chown -h on the machine: SFTP's setstat follows a final
// symlink.
func (h *Host) sftpLchown(ctx context.Context, p string, uid, gid int) error {
	name, err := h.resolve(ctx, "lchown", p, false)
	if err != nil {
		return err
	}
	// Through SFTP first, for an error that says fs.ErrNotExist.
	if err := h.sftpDo(ctx, true, func(sc *sftpSession) error { _, err := sc.sftp.Lstat(name); return err }); err != nil {
		return h.pathErr("lchown", p, err)
	}
	return h.runTool(ctx, "lchown", p, "chown", "-h", "--", strconv.Itoa(uid)+":"+strconv.Itoa(gid), name)
}

func (h *Host) sftpChtimes(ctx context.Context, p string, atime, mtime time.Time) error {
	name, err := h.resolve(ctx, "chtimes", p, true)
	if err != nil {
		return err
	}
	if err := h.sftpDo(ctx, true, func(sc *sftpSession) error { return sc.sftp.Chtimes(name, atime, mtime) }); err != nil {
		return h.pathErr("chtimes", p, err)
	}
	return nil
}

// sftpCreateTemp creates the temp file exclusively: whatever is already at the
// random name, a symlink above all, makes it fail rather than be opened.
func (h *Host) sftpCreateTemp(ctx context.Context, p string) (host.File, string, error) {
	tmp := host.TempPath(p)
	name, err := h.resolve(ctx, "create", tmp, false)
	if err != nil {
		return nil, "", err
	}
	var f *sftp.File
	err = h.sftpDo(ctx, true, func(sc *sftpSession) (err error) {
		f, err = sc.sftp.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		return err
	})
	if err != nil {
		return nil, "", h.pathErr("create", p, err)
	}
	return file{f, h, tmp}, tmp, nil
}

// sftpSync runs sync -f on the machine: SFTP has no way to sync a file system.
func (h *Host) sftpSync(ctx context.Context, p string) error {
	name, err := h.resolve(ctx, "sync", p, true)
	if err != nil {
		return err
	}
	return h.runTool(ctx, "sync", p, "sync", "-f", "--", name)
}

// runTool runs a tool of the machine for an operation SFTP lacks; its
// stderr becomes the error.
func (h *Host) runTool(ctx context.Context, op, p string, argv ...string) error {
	var stderr bytes.Buffer
	res, err := h.run(ctx, argv, host.RunOptions{Stderr: &stderr}, false)
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return h.pathErr(op, p, fmt.Errorf("%s exited with %d: %s", argv[0], res.ExitCode, strings.TrimSpace(stderr.String())))
	}
	return nil
}

// Sub shares the connection and confines the new host to the existing
// folder p.
func (h *Host) sftpSub(ctx context.Context, p string) (host.Host, error) {
	name, err := h.resolve(ctx, "sub", p, true)
	if err != nil {
		return nil, err
	}
	var fi fs.FileInfo
	if err := h.sftpDo(ctx, true, func(sc *sftpSession) (err error) { fi, err = sc.sftp.Stat(name); return err }); err != nil {
		return nil, h.pathErr("sub", p, err)
	}
	if !fi.IsDir() {
		return nil, h.pathErr("sub", p, errNotFolder)
	}
	return h.subHost(p, name), nil
}

// subHost is the Sub host of the folder p, real as the machine names it.
func (h *Host) subHost(p, real string) *Host {
	return &Host{name: h.name, root: real, realRoot: real, sub: true, top: h.top, prefix: strings.TrimSuffix(h.prefix+p, "/"), subID: subIDs.Add(1), c: h.c}
}

// sftpRealPath resolves p on the machine, symlinks leading outside the
// root included.
func (h *Host) sftpRealPath(ctx context.Context, p string) (string, error) {
	if !path.IsAbs(p) {
		return "", h.pathErr("realpath", p, errors.New("path is not absolute"))
	}
	full := path.Clean(p)
	if h.root != "" {
		root, err := h.resolveRoot(ctx)
		if err != nil {
			return "", err
		}
		full = path.Join(root, full)
	}
	var real string
	err := h.sftpDo(ctx, true, func(sc *sftpSession) (err error) {
		links := 0
		real, err = h.realPath(sc, full, &links)
		return err
	})
	if err != nil {
		return "", h.pathErr("realpath", p, err)
	}
	return real, nil
}
