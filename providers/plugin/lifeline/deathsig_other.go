//go:build !linux

package lifeline

import "syscall"

// setDeathSignal does nothing where the system has no parent-death
// signal: the lifeline pipe alone ties the plugin to its CLI.
func setDeathSignal(*syscall.SysProcAttr) {}
