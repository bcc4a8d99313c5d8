// Package mirror makes folders on one host mirror folders on another,
// through the host.Host interface, and ops registered to run on the
// hosts' machines (host.RegisterOp).
//
// A Mirror holds pairs of folders (source, target). Plan walks both sides
// of every pair in parallel, never following a symlink, applies include and
// exclude globs, and compares entries by size and modification time, or by
// content (checksum), giving an itemised list of changes (add, update with
// the reasons, delete) with counts, bytes and the time of the oldest change
// not yet mirrored. PlanPaths does the same for a few subtrees, which is
// what continuous replication sends after the source reported changes.
// PlanGuarded lists every folder through a tripwire (host.Host.Tripwire),
// so that the plan can tell later whether it still describes both sides
// (Current), and be applied without walking again. On a machine that
// runs ops (host.CanCall) a side is walked there in one op call
// (mirror.scan) instead of one round trip per folder: through its
// tripwire (host.CallWatched), which the agent keeps watching there
// after the call, or, where no tripwire watches, unguarded; a machine
// without ops is walked folder by folder through the transport
// (WithoutOps names those hosts).
// Apply copies in parallel, folder by folder, writes each file to a temp
// file renamed over the old one (one sync of the target at the end, not
// one per file) — or, for a large file whose size stays, writes its
// changed blocks in place through package blocks (manifest and undo
// journal beside it, which also rolls back an update during which the
// source changed) —, keeps holes of sparse files, preserves modes, owners, times,
// symlinks and hard links as asked, caps the bandwidth, deletes orphans
// last and sets folders' metadata at the very end. Between machines that
// run ops, one of them not this one, small files cross in batches (an op
// reading a batch of a folder's files on the source's machine, mirror.read,
// and one writing it on the target's, mirror.write), and folders are made
// and given their metadata in one op call each (mirror.mkdirs, mirror.meta;
// a new folder only batches write into is made by its first batch), under
// the same rules as through the transports.
//
// Safety is this package's to keep: each side is reached through a host
// confined to its folder (host.Host.Sub), so no symlink, even one swapped
// in mid-run, leads out of a set; paths with `..` are refused; folders that
// overlap on one machine are refused; a source folder that is missing,
// replaced (an unmount) or empty while its target is not stops the run
// before anything is deleted; a source folder whose marker (MarkSources)
// is not the one recorded at the last mirror is refused, and so is a whole
// mirror deleting more of a replica than Options.MaxDelete; an entry that cannot be read or written is
// listed and the rest goes on, and Apply fails at the end naming them. An
// update in place stopped partway is rolled back before Apply returns;
// one a crash left part-written is rolled back by the next mirror of the
// file, or by RollBackInterrupted when no mirror can come.
//
// It does not know about providers, cty or configuration, keeps nothing
// between calls, and never follows the source in time: watching is the
// caller's (host.Host.Watch).
package mirror
