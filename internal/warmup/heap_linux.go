package warmup

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// heapReserve is how much of the heap's address space is set aside for
// huge pages: more than the largest plan the benchmarks make needs.
const heapReserve = 256 << 20

const madvHugepage = 14

// HugeHeap backs the next heapReserve bytes of the Go heap with
// transparent huge pages where the system grants them on request (THP
// "madvise", the common default), as Go itself did up to 1.21. A process
// that fills 150 MB of heap otherwise takes ~38,000 page faults; on a
// virtual machine each can cost ~20 µs, more than the work itself. It
// maps the stretch with one large allocation (never touched, so it costs
// no memory), marks the heap's mapping and collects the allocation at
// once: the heap then grows into marked memory. It costs a few
// milliseconds (a collection, the heap's metadata for the stretch), so
// callers ask for it only before large work. GODEBUG=disablethp=1 turns
// it off, as it does Go's own use of huge pages.
//
// It also sets DROVER_HUGE_HEAP=1 in the environment, so that the provider
// plugins this process starts afterwards, which do the planning's other
// half, do the same as they start.
func HugeHeap() {
	hugeOnce.Do(hugeHeap)
}

// hugeHeapEnv asks a drover process to call HugeHeap as it starts.
const hugeHeapEnv = "DROVER_HUGE_HEAP"

func init() {
	Inherit()
}

// Inherit calls HugeHeap if the process that started this one asked for it
// in the environment. Every drover process does as it starts; a process
// whose environment changes later (a spare plugin process given its
// orders) calls it again.
func Inherit() {
	if os.Getenv(hugeHeapEnv) == "1" {
		HugeHeap()
	}
}

var hugeOnce sync.Once

func hugeHeap() {
	if unsafe.Sizeof(uintptr(0)) < 8 || strings.Contains(os.Getenv("GODEBUG"), "disablethp=1") || strictOvercommit() {
		return
	}
	os.Setenv(hugeHeapEnv, "1")
	at := reserve()
	// Free the reservation before the work starts, so that the heap
	// grows into it rather than past it while a collection is due.
	defer runtime.GC()
	for m := range mappings() {
		if m.start <= at && at < m.end {
			syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), madvHugepage)
			return
		}
	}
}

// reserve maps heapReserve bytes of heap and returns where, keeping
// nothing that would stop a collection from freeing them.
//
//go:noinline
func reserve() uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(make([]byte, heapReserve)))))
}

// strictOvercommit reports whether the kernel counts every mapping
// against a commit limit (vm.overcommit_memory = 2), where even an
// untouched reservation could make the process run out of memory.
func strictOvercommit() bool {
	b, err := os.ReadFile("/proc/sys/vm/overcommit_memory")
	return err != nil || strings.TrimSpace(string(b)) == "2"
}
