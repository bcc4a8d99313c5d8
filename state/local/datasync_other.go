//go:build !linux

package local

import "os"

// datasync makes f's data durable: a whole sync where the system has no
// fdatasync.
func datasync(f *os.File) error { return f.Sync() }
