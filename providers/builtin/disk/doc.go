// Package disk is the built-in provider "disk": what a machine boots from.
//
//   - boot_entry: an entry of a host's boot menu and whether it is the
//     default, for four loaders: BOOT.INI (package bootini), GRUB's
//     environment block (grubenv), a BCD store (bcd) and UEFI variables
//     (efiboot).
//   - actions boot_set_default, boot_set_next and host_reboot (reboot a
//     host and wait until it has booted again), which runbooks and the
//     `drover boot` commands run.
//
// The formats live in the packages named above; this package turns
// configuration into calls on them, always through the host.
package disk
