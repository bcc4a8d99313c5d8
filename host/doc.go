// Package host is how providers reach a machine: run a command given as
// argv; read, write, list and atomically replace files; list a folder with
// the metadata of every entry in one call (ReadDirStat); make links, set
// owners and times; clone a file sharing its blocks (Reflink); confine work
// to one folder (Sub), so that no symlink
// leads out of it; watch a tree for changes, and tell whether a tree walked
// is still as it was (Tripwire). This package
// implements the local transport, including a host rooted at a folder
// (every path of the host lives below that folder), which tests and the
// quickstart use to play several machines on one; an SSH transport will
// implement the same interface.
//
// A host is named in configuration by a `host` block and reaches providers
// as a cty object of type Type; FromValue turns that object back into a Host.
// Nothing here ever builds a shell command line from configuration, and no
// write goes through a name someone else could have planted: temp files get
// random names and are created exclusively, without following a symlink.
package host
