//go:build !linux

package host

import (
	"context"
	"errors"
	"fmt"
)

// Tripwire is unsupported off Linux: callers compare again instead.
func (l *local) Tripwire(ctx context.Context, path string) (Tripwire, error) {
	return nil, fmt.Errorf("host %q: watching %s: %w", l.name, path, errors.ErrUnsupported)
}
