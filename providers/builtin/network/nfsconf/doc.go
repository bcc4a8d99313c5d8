// Package nfsconf owns the part of an NFS-Ganesha server's configuration
// that Drover manages, and tells the running ganesha.nfsd to load it.
//
// As sambaconf does for Samba, Drover never edits what an administrator
// wrote: its files live in drover.d beside the main configuration
// (ganesha.conf), one EXPORT block per file (export-NAME.conf) and
// index.conf, which %includes each of them; the main configuration gets
// one %include line for the index, added once at its end. Those files
// are confdir's; this package says what they hold and proves each reload.
//
// Ganesha rereads its exports on SIGHUP, sent to the pid its pid file
// names. The reload is asynchronous and reports nothing to the sender, so
// a change is proved, not assumed: the server's log must say the reread
// is complete without a critical error about the export, and an NFS
// client on the host (nfs-ls, libnfs-utils) must see the export's pseudo
// path appear, or disappear. A change the server did not take is undone
// and the server told again, so that the files never hold what the
// server does not serve. Ganesha refuses to change an export's path in
// place; a new path is taken in two reloads, the old export dropped
// first.
//
// The kernel's NFS server (exportfs, /etc/exports) is not managed here.
//
// Everything goes through host.Host (files and argv commands), never the
// local file system directly.
package nfsconf
