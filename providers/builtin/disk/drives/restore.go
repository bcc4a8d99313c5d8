package drives

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/drover-dr/drover/host"
)

// CopyRange copies n bytes at fromOff of the file or device from to toOff
// of to, writing only the chunks that differ, then syncs to. progress
// receives the bytes done.
func CopyRange(ctx context.Context, h host.Host, from string, fromOff int64, to string, toOff, n int64, progress func(done int64)) (written int64, err error) {
	src, err := h.OpenFile(ctx, from, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := h.OpenFile(ctx, to, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer dst.Close()
	const chunk = 4 << 20
	a, b := make([]byte, chunk), make([]byte, chunk)
	for done := int64(0); done < n; {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		k := min(chunk, n-done)
		if _, err := src.ReadAt(a[:k], fromOff+done); err != nil && err != io.EOF {
			return written, fmt.Errorf("reading %s: %w", from, err)
		}
		got, err := dst.ReadAt(b[:k], toOff+done)
		if err != nil && err != io.EOF {
			return written, fmt.Errorf("reading %s: %w", to, err)
		}
		if int64(got) != k || !bytes.Equal(a[:k], b[:k]) {
			if _, err := dst.WriteAt(a[:k], toOff+done); err != nil {
				return written, fmt.Errorf("writing %s: %w", to, err)
			}
			written += k
		}
		done += k
		progress(done)
	}
	if err := dst.Sync(); err != nil {
		return written, fmt.Errorf("syncing %s: %w", to, err)
	}
	return written, nil
}
