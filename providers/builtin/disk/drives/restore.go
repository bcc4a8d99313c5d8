package drives

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/drover-dr/drover/host"
)

// CopyRange copies n bytes at fromOff of the file or device from to toOff
// of to, writing only the chunks that differ, then syncs to. progress
// receives the bytes done. save, when not nil, receives what each chunk
// held before it is overwritten (its offset in to, and the old bytes),
// and must have kept it before returning: an undo.
func CopyRange(ctx context.Context, h host.Host, from string, fromOff int64, to string, toOff, n int64, save func(off int64, old []byte) error, progress func(done int64)) (written int64, err error) {
	dst, err := h.OpenFile(ctx, to, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer dst.Close()
	err = compareRange(ctx, h, from, fromOff, dst, to, toOff, n, func(off int64, want, have []byte) error {
		if save != nil {
			if err := save(off, have); err != nil {
				return err
			}
		}
		if _, err := dst.WriteAt(want, off); err != nil {
			return fmt.Errorf("writing %s: %w", to, err)
		}
		written += int64(len(want))
		return nil
	}, progress)
	if err != nil {
		return written, err
	}
	if err := dst.Sync(); err != nil {
		return written, fmt.Errorf("syncing %s: %w", to, err)
	}
	return written, nil
}

// DiffRange counts the bytes, in chunks of 4 MiB, that differ between n
// bytes at aOff of a and at bOff of b: what CopyRange from a to b would
// write.
func DiffRange(ctx context.Context, h host.Host, a string, aOff int64, b string, bOff, n int64, progress func(done int64)) (differ int64, err error) {
	f, err := h.OpenFile(ctx, b, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	err = compareRange(ctx, h, a, aOff, f, b, bOff, n, func(off int64, want, have []byte) error {
		differ += int64(len(want))
		return nil
	}, progress)
	return differ, err
}

// compareRange reads n bytes at fromOff of from and at toOff of dst (the
// file or device to, open) in chunks, and calls differ for each chunk
// that differs, with its offset in to.
func compareRange(ctx context.Context, h host.Host, from string, fromOff int64, dst host.File, to string, toOff, n int64, differ func(off int64, want, have []byte) error, progress func(done int64)) error {
	src, err := h.OpenFile(ctx, from, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	const chunk = 4 << 20
	a, b := make([]byte, chunk), make([]byte, chunk)
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(chunk, n-done)
		if _, err := src.ReadAt(a[:k], fromOff+done); err != nil && err != io.EOF {
			return fmt.Errorf("reading %s: %w", from, err)
		}
		got, err := dst.ReadAt(b[:k], toOff+done)
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading %s: %w", to, err)
		}
		if int64(got) != k || !bytes.Equal(a[:k], b[:k]) {
			if err := differ(toOff+done, a[:k], b[:got]); err != nil {
				return err
			}
		}
		done += k
		if progress != nil {
			progress(done)
		}
	}
	return nil
}

// CopyTree copies the file, symlink or folder src of from to dst of to,
// with owners, modes and times; what dst holds already is overwritten,
// other entries in its folders stay. from and to are hosts confined to the
// file systems concerned (host.Host.Sub): every path, the symlinks on the
// way included, is resolved inside them, and one that leads out is refused
// (host.ErrOutsideRoot). Symlinks inside the tree are copied as links, never
// followed. A file is written to a temp file renamed over dst, so that an
// interrupted restore leaves each file whole, old or new.
func CopyTree(ctx context.Context, from host.Host, src string, to host.Host, dst string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := from.Lstat(ctx, src)
	if err != nil {
		return err
	}
	switch fi.Mode().Type() {
	case 0:
		if err := copyFile(ctx, from, src, to, dst); err != nil {
			return err
		}
	case fs.ModeDir:
		if old, err := to.Lstat(ctx, dst); err == nil && !old.IsDir() {
			if err := to.Remove(ctx, dst); err != nil {
				return err
			}
		}
		if err := to.MkdirAll(ctx, dst, 0o700); err != nil {
			return err
		}
		entries, err := from.ReadDir(ctx, src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := CopyTree(ctx, from, path.Join(src, e.Name()), to, path.Join(dst, e.Name())); err != nil {
				return err
			}
		}
	case fs.ModeSymlink:
		target, err := from.Readlink(ctx, src)
		if err != nil {
			return err
		}
		if err := to.Remove(ctx, dst); err != nil {
			return err
		}
		if err := to.Symlink(ctx, target, dst); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s is a %s, which a restore does not copy", src, host.ModeKind(fi.Mode()))
	}
	// Owner first (a chown clears setuid bits), then mode and times; a
	// folder's last, after its entries changed its time.
	if st, ok := host.StatOf(fi); ok {
		if err := to.Lchown(ctx, dst, st.UID, st.GID); err != nil {
			return err
		}
	}
	if fi.Mode().Type() == fs.ModeSymlink {
		return nil
	}
	if err := to.Chmod(ctx, dst, fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return err
	}
	return to.Chtimes(ctx, dst, fi.ModTime(), fi.ModTime())
}

func copyFile(ctx context.Context, from host.Host, src string, to host.Host, dst string) error {
	r, err := from.Open(ctx, src)
	if err != nil {
		return err
	}
	defer r.Close()
	if old, err := to.Lstat(ctx, dst); err == nil && old.IsDir() {
		return fmt.Errorf("%s is a folder, the backup holds a file there; move the folder away first", dst)
	}
	w, tmp, err := to.CreateTemp(ctx, dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = to.Rename(ctx, tmp, dst)
	}
	if err != nil {
		to.Remove(ctx, tmp)
	}
	return err
}
