package drives

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/drover-dr/drover/host"
)

// WriteStamp is a value that changes whenever the drive is written: the
// sectors written to a device (and its loop devices) since boot, or an
// image file's modification time and size.
func WriteStamp(ctx context.Context, h host.Host, d *Drive) (string, error) {
	var parts []string
	if d.Kind == Image {
		fi, err := h.Lstat(ctx, d.Path)
		if err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%d/%d", fi.ModTime().UnixNano(), fi.Size()))
		for _, loop := range d.Holders {
			parts = append(parts, sectorsWritten(ctx, h, "/sys/block/"+strings.TrimPrefix(loop, "/dev/")))
		}
	} else {
		parts = append(parts, sectorsWritten(ctx, h, d.sys))
	}
	if b, err := h.ReadFile(ctx, "/proc/sys/kernel/random/boot_id"); err == nil {
		parts = append(parts, "boot "+strings.TrimSpace(string(b)))
	}
	return strings.Join(parts, " "), nil
}

// sectorsWritten is field 7 of a block device's stat file.
func sectorsWritten(ctx context.Context, h host.Host, sys string) string {
	b, err := h.ReadFile(ctx, sys+"/stat")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 7 {
		return "?"
	}
	return f[6]
}

// WaitQuiet waits until the drive has not been written for quiet, polling
// every poll, for at most limit. It returns how long it waited and whether
// the quiet period came.
func WaitQuiet(ctx context.Context, h host.Host, d *Drive, quiet, limit, poll time.Duration) (time.Duration, bool, error) {
	start := time.Now()
	last, err := WriteStamp(ctx, h, d)
	if err != nil {
		return 0, false, err
	}
	since := start
	for {
		if time.Since(since) >= quiet {
			return time.Since(start), true, nil
		}
		if time.Since(start) >= limit {
			return time.Since(start), false, nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), false, ctx.Err()
		case <-time.After(poll):
		}
		now, err := WriteStamp(ctx, h, d)
		if err != nil {
			return time.Since(start), false, err
		}
		if now != last {
			last, since = now, time.Now()
		}
	}
}
