// Package regf reads and writes registry hive files (the "regf" format of
// Windows' SYSTEM, SOFTWARE or BCD files) as a tree of keys and values held
// in memory.
//
// Read parses a whole hive: every key with its name, class, flags,
// last-written time and security descriptor, every value with its type and
// data (small, resident and big-data values). Encode writes the tree as a
// new, compact hive: one pass lays out every cell afresh, so an edited hive
// never carries the free space or the stale cells of the old one, and a
// caller replaces the old file with the new one in a single rename. Nothing
// is ever edited in place.
//
// Read checks every offset and length against the file, so a damaged or
// hostile file gives a *FormatError, never a panic or a loop.
//
// The package knows nothing of hosts, .reg files or the live registry; it
// must not read or write files itself.
package regf
