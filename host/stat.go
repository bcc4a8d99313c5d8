package host

import "io/fs"

// Stat is what a FileInfo tells beyond fs.FileInfo, when the transport
// knows it: ownership, identity (device and inode, for hard links and for
// noticing that a folder was replaced, e.g. by an unmount) and allocation
// (for sparse files).
type Stat struct {
	UID, GID int
	Dev, Ino uint64
	Nlink    uint64
	// Blocks is the allocated size in 512-byte units.
	Blocks int64
}

// StatOf reads the Stat of fi, from the local transport's system stat or a
// *Stat that another transport puts in Sys(). ok is false when the
// transport does not know.
func StatOf(fi fs.FileInfo) (st Stat, ok bool) {
	if s, ok := fi.Sys().(*Stat); ok {
		return *s, true
	}
	return sysStat(fi.Sys())
}
