// Package warmup tunes drover processes for the short runs a CLI makes.
// Importing it is enough for the first part: on Linux every drover
// process, the CLI and each provider plugin (the same binary), maps its
// code and constants into its page tables in one call as it starts,
// instead of one page fault at a time. HugeHeap, called before large
// work, backs the Go heap with transparent huge pages, so that a large
// plan does not pay one page fault per 4 KiB; the plugins started after
// it do the same.
package warmup
