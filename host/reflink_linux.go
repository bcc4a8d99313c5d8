package host

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func (l *local) Reflink(ctx context.Context, src, dst string) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	fsys, srcName, err := l.resolve("reflink", src)
	if err != nil {
		return err
	}
	_, dstName, err := l.resolve("reflink", dst)
	if err != nil {
		return err
	}
	in, err := fsys.OpenFile(srcName, os.O_RDONLY, 0)
	if err != nil {
		return l.pathErr("reflink", src, err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return l.pathErr("reflink", src, err)
	}
	if !fi.Mode().IsRegular() {
		return l.pathErr("reflink", src, fmt.Errorf("a %s cannot be cloned: %w", ModeKind(fi.Mode()), errors.ErrUnsupported))
	}
	out, err := fsys.OpenFile(dstName, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, fi.Mode().Perm())
	if err != nil {
		return l.pathErr("reflink", dst, err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = l.pathErr("reflink", dst, cerr)
		}
		if err != nil {
			fsys.Remove(dstName)
		}
	}()
	if err := unix.IoctlFileClone(int(out.Fd()), int(in.Fd())); err != nil {
		// EXDEV: another file system; EOPNOTSUPP, EINVAL, ENOTTY: one
		// without shared blocks (ext4, xfs made without reflink=1, tmpfs).
		if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
			err = fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
		}
		return l.pathErr("reflink", dst, err)
	}
	if err := out.Chmod(fi.Mode().Perm()); err != nil {
		return l.pathErr("reflink", dst, err)
	}
	if err := out.Sync(); err != nil {
		return l.pathErr("reflink", dst, err)
	}
	return nil
}
