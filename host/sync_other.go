//go:build !linux

package host

import "os"

// syncFS syncs only f here: the mirror's one-sync-per-batch durability is
// for Linux; elsewhere a crash may lose renamed files' data.
func syncFS(f *os.File) error { return f.Sync() }
