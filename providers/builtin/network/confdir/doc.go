// Package confdir owns the folder of files Drover keeps beside a server's
// main configuration file, for the servers that read included files
// (Samba, NFS-Ganesha): drover.d beside the main file, one file per part
// (PART.conf), and index.conf, which includes each of them in name
// order. The main file gets one include line for the index, added once
// at its end and never changed again, so that parts come and go by files
// of Drover's own and what an administrator wrote is never edited.
//
// It knows the files, not the servers: how a server is told to load a
// change, and what a part holds, belong to sambaconf and nfsconf, which
// differ only in the include line's syntax (Syntax).
//
// Everything goes through host.Host (files), never the local file system
// directly.
package confdir
