package warmup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestPopulate maps a file that is in the page cache, as a binary that
// other processes run is, and checks that populate puts all of it in the
// page tables, which touching takes a fault for.
func TestPopulate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "code")
	const size = 16 << 20
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	syscall.Madvise(mem, syscall.MADV_RANDOM) // no fault-around: only what populate maps
	start := uint64(uintptr(unsafe.Pointer(&mem[0])))
	if rss := residentKiB(t, start); rss != 0 {
		t.Fatalf("%d KiB mapped before populate", rss)
	}
	if err := populate(mapping{start: start, end: start + size}); err != nil {
		t.Fatal(err)
	}
	if rss := residentKiB(t, start); rss != size>>10 {
		t.Fatalf("%d of %d KiB mapped after populate", rss, size>>10)
	}
}

// residentKiB is the Rss of the mapping that holds start.
func residentKiB(t *testing.T, start uint64) int {
	t.Helper()
	n, _ := strconv.Atoi(strings.Fields(smapsField(t, start, "Rss:"))[0])
	return n
}
