// Package local is the state backend that keeps the state in a file in the
// working folder (drover.state.json unless told otherwise), beside it:
//
//	<path>.backup   the previous version, replaced whole on every write
//	<path>.lock     exists while the state is locked; holds who locked it
//	<path>.journal  exists while an apply runs, or after one was killed
//
// It owns those four files and nothing else. Every file is written 0600:
// the state holds sensitive values in full.
//
// Invariants:
//   - A reader sees either the old or the new state, never a mix: files are
//     written to a temporary name in the same folder, synced, renamed over
//     the old one, and the folder is synced.
//   - Whatever changes the state file or the journal holds the lock: an OS
//     file lock (flock) on <path>.lock, released by the kernel when its
//     holder dies. Methods that write take the lock for their own duration
//     when the caller does not hold it.
//   - A journal entry is durable once Record returns. The journal's first
//     line names the state it continues (lineage and serial); Read replays a
//     journal onto that state only, and discards one the state has already
//     moved past.
//
// It must not interpret resources beyond the state package's codec: what a
// journal entry means is state.State.Replay's business.
package local
