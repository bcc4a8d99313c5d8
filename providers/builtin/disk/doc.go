// Package disk is the built-in provider "disk": drives, the
// sector-by-sector backup copies kept of them, and what a machine boots
// from.
//
//   - drive: an image file (created sparse at a size) or a block device
//     (asserted to exist), with what the machine shows of it: size, logical
//     sector size, partition table, mounts.
//   - drive_copy: keeps a target drive a block-identical copy of a source
//     drive with package blocks (changed blocks only, an undo journal, a
//     manifest beside the target), from a point-in-time view of a live
//     source (package drives), keeping the target hidden between copies.
//     The whole copy runs on the drives' machine as the op disk.copy
//     (copyop.go): in the agent for an SSH host, in this process for a
//     local one, here through the transport where the machine runs no ops.
//   - boot_entry: an entry of a host's boot menu and whether it is the
//     default, for four loaders: BOOT.INI (package bootini), GRUB's
//     environment block (grubenv), a BCD store (bcd) and UEFI variables
//     (efiboot). Destroy gives back only what apply changed, as the state
//     records it (a line it added, the default it replaced).
//   - actions drive_diff and drive_restore, which `drover drive diff` and
//     `drover drive restore` invoke: compare or restore files and
//     partitions from a copy, mounted read-only through loop devices;
//     boot_set_default, boot_set_next and host_reboot (reboot a host and
//     wait until it has booted again), which runbooks and the `drover boot`
//     commands run.
//
// A drive_copy exists as long as its manifest does. An image or a manifest
// holds a server's data: a destroy forgets drives and copies and leaves
// their files on the host, unless delete_on_destroy asks to delete them
// (an image only if Drover created it; a copy's manifest and journal,
// never the target's bytes); the plan says which, listing each file. A
// drive_copy whose drives do not exist yet is checked at plan time against
// the images the drive resources of the run plan to create (planned.go).
// The formats live in the packages named above; this package turns
// configuration into calls on them, always through the host.
package disk
