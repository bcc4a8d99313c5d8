package ssh

import (
	"errors"
	"fmt"

	"github.com/pkg/sftp"
)

// file is a host.File over an SFTP handle. The page-cache hints have no
// SFTP request and are skipped (they are best effort); holes cannot be
// punched.
type file struct{ *sftp.File }

func (f file) PunchHole(off, n int64) error {
	return fmt.Errorf("punching a hole over SFTP: %w", errors.ErrUnsupported)
}
func (f file) DropCache(off, n int64) error { return nil }
func (f file) Sequential() error            { return nil }
func (f file) Prefetch(off, n int64) error  { return nil }
func (f file) WriteBack(off, n int64) error { return nil }
