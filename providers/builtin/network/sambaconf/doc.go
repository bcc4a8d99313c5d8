// Package sambaconf owns the part of a Samba server's configuration that
// Drover manages, and tells the running smbd to load it.
//
// Drover never edits the definitions an administrator wrote. It keeps
// its own files in the folder drover.d beside the main configuration
// (smb.conf): one file per object (a share's section, the [global]
// parameters of a host name), and index.conf, which includes each of
// them. The main configuration gets one line, `include =
// .../drover.d/index.conf`, added once at its end and never changed
// again, so that objects come and go by files of Drover's own. Those
// files are confdir's, shared with nfsconf.
//
// Every file is replaced atomically (host.Host.WriteFile). A change is
// loaded by `smbcontrol smbd reload-config`, without a restart; when the
// reload fails (smbd not running), the change is undone, so that the
// configuration on disk never holds what smbd was not told about.
//
// Everything goes through host.Host (files and argv commands), never the
// local file system directly, so that the same code acts on a remote
// host once its transport lands.
package sambaconf
