package blocks

import "golang.org/x/sys/unix"

// bigBuffer returns n zeroed bytes outside the Go heap, on huge pages
// where the kernel has them, and the func that gives them back. A copy's
// buffers are touched once and reused: on small pages the first touch
// costs a page fault per 4 KiB, which on virtual machines with shadowed
// page tables (~20 us each) costs more than the copy of the bytes.
func bigBuffer(n int) ([]byte, func()) {
	const huge = 2 << 20
	size := (n + huge - 1) / huge * huge
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n), func() {}
	}
	unix.Madvise(b, unix.MADV_HUGEPAGE)
	return b[:n:n], func() { unix.Munmap(b) }
}
