// Package bootini reads and edits BOOT.INI, the boot menu of NT-family
// loaders (NTLDR): a [boot loader] section with timeout and default, and an
// [operating systems] section with one line per entry, ARC path = "label"
// and switches.
//
// Edits touch only the lines they change: comments, blank lines, unknown
// sections and settings, the order of entries and every line ending stay
// byte for byte as they were. The package does not read or write files.
package bootini
