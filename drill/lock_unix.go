//go:build unix

package drill

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// lock takes the inventory's journal for this process, without waiting:
// a drill holds its inventory while it runs, so that no teardown starts
// under it, and the kernel lets go when the process ends, however it ends.
// A journal of a transport that gives no descriptor (SSH) is not locked.
func lock(f any, file string) error {
	fd, ok := f.(interface{ Fd() uintptr })
	if !ok {
		return nil
	}
	err := unix.Flock(int(fd.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return fmt.Errorf("the drill of %s is still running in another process; let it finish or stop it, then tear down", file)
	}
	if err != nil {
		return fmt.Errorf("locking the drill's inventory %s: %w", file, err)
	}
	return nil
}
