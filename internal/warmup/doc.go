// Package warmup tunes drover processes for the large runs a CLI makes:
// HugeHeap, called before large work, backs the Go heap with transparent
// huge pages on Linux, so that a large plan does not pay one page fault
// per 4 KiB; the plugins started after it do the same.
package warmup
