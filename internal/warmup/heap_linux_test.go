package warmup

import (
	"bufio"
	"os"
	"strconv"
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
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			lo, hi, _ := strings.Cut(fields[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && start <= at && at < end
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			if !strings.Contains(line, " hg") {
				t.Fatalf("the heap's mapping is not marked for huge pages: %s", line)
			}
			return
		}
	}
	t.Fatal("no mapping holds the allocation")
}
