//go:build !linux

package warmup

// HugeHeap does nothing here: transparent huge pages are Linux's.
func HugeHeap() {}

// Inherit does nothing here, as HugeHeap.
func Inherit() {}
