package host

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes the whole file system holding f, one call for any number
// of files written before it.
func syncFS(f *os.File) error { return unix.Syncfs(int(f.Fd())) }
