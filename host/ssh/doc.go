// Package ssh is the SSH transport: a host.Host for a machine reached over
// SSH, its files through SFTP and its commands through exec requests, with
// one connection per host (shared by its Sub hosts), multiplexed sessions,
// keepalives, connect and idle timeouts, and a redial when the connection
// dropped between operations. On Linux what a read of a connection drains
// is acknowledged at once: sshd's small messages otherwise wait on a
// delayed acknowledgement (ack_linux.go). An operation cut off by a drop is
// repeated on the new connection only when repeating it cannot do harm
// (reads, chmod, mkdir, remove and the like); others fail saying they may
// or may not have been done. An open file is never reopened on a new
// connection: its errors name the host, the path and the connection that
// ended. Every error caused by an unreachable machine or a dropped
// connection is host.ErrUnreachable, for callers to stop rather than fail
// each entry alike. SFTP has no "file exists" status: an O_EXCL open that
// fails on an existing file is reported as fs.ErrExist, as locally.
//
// Host keys are always verified, against the pinned key or known_hosts as
// OpenSSH reads it (hashed names, ports, @revoked). An unknown key is
// refused with its fingerprint and the line to add; a changed or revoked
// key is refused loudly; each as an error type of its own, before anything
// is done on the machine. TrustNewHostKeys records an unknown key in
// known_hosts (replaced atomically) and RecordedHostKeys tells which.
// Verify proves the host key and the login alone, on a connection it then
// closes: what the core checks before a run.
//
// Commands are argv quoted by host/shellquote for the remote login shell,
// which must be a POSIX shell; the environment goes through `env`, not SSH
// setenv (which sshd refuses unless AcceptEnv allows it). A command whose
// context ends has its process group killed on the machine.
//
// The agent (package agent) is this same program run on the machine, for
// what SFTP cannot do: the first operation that wants it starts the copy
// of this build cached on the machine in a per-user cache (AgentCache, by
// default ~/.cache/drover/agent/SHA256/), with an exec request whose stdin
// and stdout carry the protocol. Its handshake reports the sha256 of its
// own executable. Where none starts (none there yet, a copy cut short or
// another build), it asks `uname -sm` whether this binary runs there and
// if so uploads it over SFTP (mode 0700, temp name then rename; other
// builds' folders removed), once, and starts it; a home folder shared with
// machines of another system keeps their copy. Later connections start the
// cached copy without asking uname again. One agent per connection; it exits
// when the connection ends and listens on no port. A machine of another
// system or architecture, a program that does not serve the agent (a
// third-party provider) or an upload that fails (a full or noexec home)
// leaves the connection without one: Invoke fails with host.ErrNoOps and
// the reason (host.CanCall), and the operations below use SFTP.
//
// A connection's SFTP session is started by the first operation that needs
// it: where the agent serves the host, only an upload of the agent does
// (paths a rooted host's commands need resolved are resolved by the agent
// too), so that a connection costs the machine the login and the agent's
// start alone.
//
// Through the agent go ops (Invoke) and every file operation (ReadDir,
// RealPath and Sub's check of its folder, which its protocol has no call
// for, as ops this package registers): Lstat and ReadDirStat with
// devices, inodes and owners, files opened or created (holes punched, a
// block device's size at Seek from the end, page-cache hints, data
// zstd-compressed on the wire where it shrinks, or streamed raw on a
// channel of its own, host.StreamFile), WriteFile with the folder
// synced after the rename, Chtimes in nanoseconds, Sync (syncfs), Reflink,
// Watch and Tripwire (inotify). The agent serves each on a local host
// rooted where this one is (os.Root on the machine, a Sub host's folder
// opened through it), so confinement holds with no window between
// resolving a path and acting on it.
//
// Over SFTP, a root confines the host as for a local host too: `..`
// cannot climb above it, and each path is resolved on the machine (SFTP
// realpath and readlink) before use, so that a symlink leading outside is
// refused. But there is a window between resolving and acting: someone
// who can write below the root on the machine could swap a folder for a
// symlink in it. Programs are run as the machine names them, not looked up
// below the root.
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
// Without the agent: Watch, Tripwire and Reflink fail with
// errors.ErrUnsupported, PunchHole too; Lstat and ReadDirStat do not know
// devices and inodes (host.StatOf and EntryStat.HasStat say so); a block
// device opened with OpenFile reports size 0; WriteFile cannot sync the
// folder after its rename, Chtimes has whole seconds (SFTP's setstat),
// and Sync runs `sync -f`.
package ssh
