//go:build !linux

package host

import (
	"errors"
	"time"
)

// PunchHole is unsupported off Linux: callers write zeros instead.
func (f localFile) PunchHole(off, n int64) error { return errors.ErrUnsupported }

// DropCache is best effort, and does nothing off Linux.
func (f localFile) DropCache(off, n int64) error { return nil }

// WriteBack is best effort, and does nothing off Linux.
func (f localFile) WriteBack(off, n int64) error { return nil }

// Prefetch is best effort, and does nothing off Linux.
func (f localFile) Prefetch(off, n int64) error { return nil }

// Sequential is best effort, and does nothing off Linux.
func (f localFile) Sequential() error { return nil }

// SetModTime is unsupported off Linux: callers set it by the file's name.
func (f localFile) SetModTime(mtime time.Time) error { return errors.ErrUnsupported }
