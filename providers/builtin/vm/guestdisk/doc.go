// Package guestdisk holds the disk of a running QEMU guest still while a
// drive_copy reads it, so that the copy is the disk at one moment.
//
// Hold asks the guest agent, when the guest has one, to freeze the
// guest's file systems, takes an external snapshot through QMP
// (blockdev-snapshot-sync: QEMU writes on to a qcow2 overlay in the
// guest's state folder and the disk image stops changing) and thaws at
// once; the copy then reads the image. Release commits the overlay back
// into the image (an active block-commit, completed once it is ready) and
// removes it: the guest runs on its own image again, with every write it
// made meanwhile. Without an agent, or when it does not answer, the
// snapshot is crash-consistent: the disk as a power cut would leave it.
//
// A libvirt guest's disk is held through libvirt's API instead (its
// agent API, a disk-only external snapshot, an active block commit and a
// pivot), so that libvirt's definitions name the overlay while it is
// written; the overlay lies beside the disk, where libvirt's QEMU user
// reaches it.
//
// Invariant: an overlay (OverlayPrefix*: in the state folder of a QEMU
// guest, beside the disk of a libvirt one) holds writes its image lacks
// until it is committed. Nothing removes one uncommitted: a Hold or
// Release finds one left by a copy that was killed and commits it while
// the guest runs; CommitStopped and CommitBeside commit it with qemu-img
// once QEMU is gone, which the vm provider does before it starts a QEMU
// guest, after it stops one, and before it undefines a libvirt domain (a
// shut-off domain boots its overlay, as libvirt's definition names it).
//
// The work runs on the guest's machine, as host ops ("vm.disk_probe",
// "vm.disk_hold", "vm.disk_release") registered here, so that a copy on
// another host of the same machine, or one reached by an agent, can ask.
// It does not read vm_guest configuration beyond FromValue, nor start or
// stop guests: that is the vm provider's.
package guestdisk
