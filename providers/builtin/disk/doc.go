// Package disk is the built-in provider "disk": drives and the
// sector-by-sector backup copies kept of them.
//
//   - drive: an image file (created sparse at a size) or a block device
//     (asserted to exist), with what the machine shows of it: size, logical
//     sector size, partition table, mounts.
//   - drive_copy: keeps a target drive a block-identical copy of a source
//     drive with package blocks (changed blocks only, an undo journal, a
//     manifest beside the target), from a point-in-time view of a live
//     source (package drives), keeping the target hidden between copies.
//   - actions drive_diff and drive_restore, which `drover drive diff` and
//     `drover drive restore` invoke: compare or restore files and
//     partitions from a copy, mounted read-only through loop devices.
//
// A drive_copy exists as long as its manifest does: deleting one forgets
// the copy (manifest and journal) and leaves the target's bytes alone.
package disk
