package warmup

import (
	"os"
	"syscall"
)

const madvPopulateRead = 22

// Every drover process, the CLI and each plugin, maps its own code and
// read-only data at start in one call instead of taking a page fault for
// each stretch of them it first runs or reads: on a virtual machine a
// fault costs tens of microseconds, and a start takes several hundred.
// Where the kernel lacks MADV_POPULATE_READ (before 5.14) the call fails
// and nothing changes. The pages are the binary's, already shared with
// every other drover process: this costs no memory of its own.
func init() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	for m := range mappings() {
		if m.path == exe && len(m.perms) > 1 && m.perms[1] != 'w' {
			populate(m)
		}
	}
}

// populate maps every page of m into the page tables.
func populate(m mapping) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), madvPopulateRead); errno != 0 {
		return errno
	}
	return nil
}
