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

// ModeKind names the kind of file m is, in words for a message ("is a
// symlink"), where fs.FileMode's String gives letters ("L---------").
func ModeKind(m fs.FileMode) string {
	switch t := m.Type(); {
	case t == 0:
		return "regular file"
	case t&fs.ModeDir != 0:
		return "folder"
	case t&fs.ModeSymlink != 0:
		return "symlink"
	case t&fs.ModeCharDevice != 0:
		return "character device"
	case t&fs.ModeDevice != 0:
		return "block device"
	case t&fs.ModeNamedPipe != 0:
		return "named pipe"
	case t&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}
