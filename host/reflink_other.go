//go:build !linux

package host

import (
	"context"
	"errors"
	"fmt"
)

// Reflink is unsupported off Linux: callers copy instead.
func (l *local) Reflink(ctx context.Context, src, dst string) error {
	return fmt.Errorf("host %q: reflink %s: %w", l.name, dst, errors.ErrUnsupported)
}
