// Package grubenv reads and edits GRUB's environment block (grubenv): a
// 1024-byte file of "name=value" lines after the "# GRUB Environment Block"
// header, padded with '#'. saved_entry names the default menu entry and
// next_entry the one to boot once.
//
// It writes exactly what grub-editenv writes: values with a backslash
// before each backslash and newline, new variables after the existing
// ones, comment lines kept, and the block padded to its size. It does not
// read or write files.
package grubenv
