package warmup

import (
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestHugeHeap checks that, after HugeHeap, memory the heap hands out lies
// in a mapping marked for huge pages ("hg" among its VmFlags), and that the
// processes started after it are asked to do the same.
func TestHugeHeap(t *testing.T) {
	if strictOvercommit() || strings.Contains(os.Getenv("GODEBUG"), "disablethp=1") {
		t.Skip("HugeHeap does nothing under strict overcommit or disablethp")
	}
	HugeHeap()
	if os.Getenv(hugeHeapEnv) != "1" {
		t.Errorf("HugeHeap did not ask the processes it starts to do the same (%s)", hugeHeapEnv)
	}
	b := make([]byte, 8<<20)
	at := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	if flags := smapsField(t, at, "VmFlags:"); !strings.Contains(flags, " hg") {
		t.Fatalf("the heap's mapping is not marked for huge pages: VmFlags:%s", flags)
	}
}
