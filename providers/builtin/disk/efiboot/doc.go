// Package efiboot reads and sets the UEFI boot variables: the Boot####
// load options, BootOrder (whose first entry is the default) and BootNext
// (the entry to boot once), through github.com/canonical/go-efilib.
//
// go-efilib reaches variables through a backend carried by the context.
// HostVars is that backend for a host: the variables are the files of
// efivarfs (/sys/firmware/efi/efivars/NAME-GUID: four bytes of attributes,
// then the data), read through the host and written with a single write
// in place, as efivarfs requires (it has no temporary files or renames).
// Tests lay such files out below a host rooted at a folder, which is the
// same code path as a real host. It does not decide when to change them.
package efiboot
