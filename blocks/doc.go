// Package blocks keeps a large target (a drive image, a block device, a big
// file of a replication set) a block-identical copy of a source by writing
// only the blocks that changed, and never leaves the target half-written.
//
// It owns:
//   - per-block hashing (xxh3-128; Sum);
//   - the manifest: the per-block sums of what the target holds, its
//     generation and the identity of the target it was taken from, kept
//     beside the target; written whole and replaced atomically by a first
//     copy, updated in place by later ones (the changed sums, then a
//     header in the other of two slots). A manifest whose identity does not
//     match the target (another disk, a file rewritten by someone else) is
//     never trusted: the next copy is a full one;
//   - the copy: the source is read once, in chunks fetched and hashed by
//     one goroutine per CPU, while each block's sum is compared with the
//     manifest; of a changed block only the pieces (4 KiB) that differ from
//     what the target holds are written, by a writer goroutine while the
//     reading goes on; zero ranges become holes in files (never in
//     devices);
//   - the undo journal: before a piece of a complete generation (or a sum
//     of its manifest) is overwritten, its old content is appended to a
//     journal and the journal is synced; a copy interrupted at any point
//     (SIGKILL, power loss, full disk) is rolled back by Recover to the
//     last complete generation, or finished if its manifest was already
//     written; so is one the caller's Settled check refuses at its end (a
//     live source changed while it was read). The journal file stays
//     between copies, closed;
//   - verify: a second read of the written (or all) blocks from the medium,
//     compared with the sums;
//   - hashing where the data lies: the op blocks.sums (SumsOp) hashes
//     blocks of a file or device on the machine of its host, so that a copy
//     from a host reached over a network reads through the transport only
//     the blocks whose sum differs (Options.Source), and a verify reads
//     back the target on its own machine. A host whose machine cannot run
//     ops has every byte read through the transport and hashed here. The
//     op hashes a local file or device through read-only mappings of it,
//     not copies out of the page cache; a source that shrinks meanwhile
//     faults, which is turned into an error.
//
// It does not decide what to copy (partition selection comes in as
// extents), how to get a point-in-time view of a live source (callers pass
// a Freeze hook or ask for repeated passes), or whether a target may be
// written at all (mounted, in use): callers check that first. Everything it
// does on a machine goes through host.Host.
package blocks
