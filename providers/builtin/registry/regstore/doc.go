// Package regstore reaches a registry through one interface, Store,
// whatever holds it: a hive file on a host (read and written through the
// host, with package regf) or the live registry of the Windows machine
// Drover runs on (golang.org/x/sys/windows/registry, built on Windows
// only).
//
// It speaks .reg sections (regtext.Key): Export reads keys and values as a
// .reg file would name them, Import applies the sections of a .reg file
// with the semantics of an import (missing parent keys created, [-KEY] and
// "name"=- deletions) and returns the sections that undo it. An import is
// all or nothing: a hive file is edited in memory and replaced by one
// atomic write of a new hive; the live registry is rolled back with the
// undo sections gathered so far.
//
// It owns the mapping between .reg key names and places in a registry
// (root key names and their abbreviations, the prefix a hive file is
// mounted at). It must not decide what to capture or when: that is the
// provider's.
package regstore
