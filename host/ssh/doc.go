// Package ssh is the SSH transport: a host.Host for a machine reached over
// SSH, its files through SFTP and its commands through exec requests, with
// one connection per host (shared by its Sub hosts), multiplexed sessions,
// keepalives, connect and idle timeouts, and a redial when the connection
// dropped between operations. An operation cut off by a drop is repeated on
// the new connection only when repeating it cannot do harm (reads, chmod,
// mkdir, remove and the like); others fail saying they may or may not
// have been done. An open file is never reopened on a new connection: its
// errors name the host, the path and the connection that ended. Every
// error caused by an unreachable machine or a dropped connection is
// host.ErrUnreachable, for callers to stop rather than fail each entry
// alike. SFTP has no "file exists" status: an O_EXCL open that fails on
// an existing file is reported as fs.ErrExist, as locally.
//
// Host keys are always verified, against the pinned key or known_hosts as
// OpenSSH reads it (hashed names, ports, @revoked). An unknown key is
// refused with its fingerprint and the line to add; a changed or revoked
// key is refused loudly; each as an error type of its own, before anything
// is done on the machine. TrustNewHostKeys records an unknown key in
// known_hosts (replaced atomically) and RecordedHostKeys tells which.
//
// Commands are argv quoted by host/shellquote for the remote login shell,
// which must be a POSIX shell; the environment goes through `env`, not SSH
// setenv (which sshd refuses unless AcceptEnv allows it). A command whose
// context ends has its process group killed on the machine.
//
// A root confines the host as for a local host: `..` cannot climb above it,
// and each path is resolved on the machine (SFTP realpath and readlink)
// before use, so that a symlink leading outside is refused. Unlike a local
// rooted host (os.Root, which resolves and opens in one system call) there
// is a window between resolving and acting: someone who can write below
// the root on the machine could swap a folder for a symlink in it. Closing
// that window needs code on the machine (the remote agent). Programs are
// run as the machine names them, not looked up below the root.
//
// WriteFile writes a temp file of a random name (created exclusively,
// marked as host.TempPath marks them) and renames it over the target; a
// write cut off by a dropped connection leaves that temp file behind, for
// walkers to skip as they skip any temp file. A program the machine lacks
// exits 127, as its shell reports it, where a local Run fails to start it.
//
// Importing the package registers the transport with package host: a host
// value with an address then opens here (OptionsOf gives its Options),
// with strict host key verification, and hosts opened alike share one
// connection per process (CloseShared ends them). TrustNewHostKeys is for
// the core's check before a run (host/hostcheck), which prints every key
// recorded. "~/" in identity_file and known_hosts is the home folder.
//
// Not done yet: Watch and Tripwire, and PunchHole on open files
// (errors.ErrUnsupported: they need inotify and fallocate on the machine);
// devices and inodes in Lstat and ReadDirStat (SFTP does not tell them, so
// host.StatOf and EntryStat.HasStat say they are unknown); the size of a
// block device opened with OpenFile (SFTP reports 0); syncing a
// folder after a rename (SFTP cannot); and the remote agent that will do
// heavy operations (block copies, tree walks) on the machine itself.
package ssh
