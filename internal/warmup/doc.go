// Package warmup tunes drover processes for the short runs a CLI makes.
// Importing it is enough for the first part: the CLI and each provider
// plugin (the same binary) build the P-521 tables that go-plugin's
// automatic mutual TLS needs on a spare core instead of on the path to
// the first call. HugeHeap, called before large work, backs the Go heap
// with transparent huge pages on Linux, so that a large plan does not pay
// one page fault per 4 KiB; the plugins started after it do the same.
package warmup
