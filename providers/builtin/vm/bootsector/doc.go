// Package bootsector builds the smallest guest that proves a disk boots: a
// 512-byte x86 boot sector that writes a marker line to the first serial
// port (COM1, I/O port 0x3F8) and halts. It needs no firmware service
// beyond the BIOS loading it at 0x7C00, so it runs alike under QEMU's TCG
// and under KVM, and the vm provider's KVM probe boots one.
//
// The marker sits at MarkerOffset, so a test (or a user with dd) can change
// it in an image in place and tell which copy of the disk booted.
package bootsector
