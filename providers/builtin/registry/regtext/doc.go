// Package regtext reads and writes the text format of registry exports
// (.reg files): "Windows Registry Editor Version 5.00" files in UTF-16LE
// with a byte-order mark (as Windows writes them) or in UTF-8, and
// "REGEDIT4" files in the ANSI code page (Windows-1252) or UTF-8.
//
// A Document is the file's content as data: keys in file order, each with
// its values, key and value deletions, and the registry bytes of every
// value exactly as a registry stores them (strings as NUL-terminated
// UTF-16LE, whatever the file's header or encoding). Encode writes a
// Document so that Decode gives it back unchanged; a value that has no
// exact text form (a REG_SZ without its terminating NUL, a string holding a
// line break) is written as hex, as Windows does. What Decode reads but
// perhaps not as the writer meant (a backslash that starts no escape) is
// in Document.Warnings, for the caller to show.
//
// The package knows nothing of hives, hosts or where a key path leads: key
// paths are kept as written. It must not read or write files.
package regtext
