//go:build !linux

package host

// lookPath leaves the lookup to exec, which walks PATH at each command.
func lookPath(string) (string, bool) { return "", false }
