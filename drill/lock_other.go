//go:build !unix

package drill

// lock is a no-op where there is no flock.
func lock(f any, file string) error { return nil }
