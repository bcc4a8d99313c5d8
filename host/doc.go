// Package host is how providers reach a machine: run a command given as
// argv; read, write, list and atomically replace files; list a folder with
// the metadata of every entry in one call (ReadDirStat); make links, set
// owners and times; clone a file sharing its blocks (Reflink); confine work
// to one folder (Sub), so that no symlink
// leads out of it; watch a tree for changes, and tell whether a tree walked
// is still as it was (Tripwire). This package
// implements the local transport, including a host rooted at a folder
// (every path of the host lives below that folder), which tests and the
// quickstart use to play several machines on one; host/ssh implements the
// same interface over SSH.
//
// A host is named in configuration by a `host` block and reaches providers
// as a cty object of type Type; FromValue turns that object back into a Host.
// Config.Check refuses what cannot be right before anything connects, a
// local host with SSH settings above all. Other transports register an
// Opener (RegisterTransport; host/ssh does when a program imports it, as
// the built-in providers do): this package cannot import them, as they
// implement its interface. A host naming another machine whose transport
// the program lacks is refused, never opened on this machine instead.
// Providers register ops (RegisterOp): work done on the machine itself,
// with its own file system and kernel at hand. Call runs one in this
// process for a local host and through the transport for a remote one
// whose machine runs the agent (Invoker); other hosts get ErrNoOps.
// CallWatched runs one with a tripwire at hand, kept where it lives (in
// the agent, for a remote host): a walk through it in one call. A long
// op reports progress (ReportProgress) to the caller's WithProgress, which
// the transport brings back while the op runs.
// Nothing here ever builds a shell command line from configuration, and no
// write goes through a name someone else could have planted: temp files get
// random names and are created exclusively, without following a symlink.
package host
