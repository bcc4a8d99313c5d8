package blocks

import (
	"fmt"
	"io/fs"
	"syscall"

	"github.com/drover-dr/drover/host"
)

// Identity tells one target from another: a manifest is trusted only for
// the target it was taken from, as that target was after the copy.
type Identity struct {
	Size int64 `json:"size"`
	// Device is a stable name of a block device that outlives reboots and
	// renumbering (serial or WWID, a loop device's backing file); set by
	// the caller. Empty for files.
	Device string `json:"device,omitempty"`
	// Dev and Inode name a file; ModTime (ns) is its modification time
	// after the last write of the copy, so a file written by anyone else
	// since no longer matches.
	Dev     uint64 `json:"dev,omitempty"`
	Inode   uint64 `json:"inode,omitempty"`
	ModTime int64  `json:"mtime_ns,omitempty"`
}

// FileIdentity is the identity of a file or device as fi (of the open
// target) describes it, size being its size in bytes. A device gets its
// device number as Device; callers with a stabler name replace it.
func FileIdentity(fi fs.FileInfo, size int64) Identity {
	id := Identity{Size: size}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if fi.Mode()&fs.ModeDevice != 0 {
		if ok {
			id.Device = fmt.Sprintf("dev:%d", st.Rdev)
		}
		return id
	}
	id.ModTime = fi.ModTime().UnixNano()
	// Whichever transport stat the file (this process, or the agent on
	// the machine), the same file gets the same identity: the copy runs
	// on the machine while a plan scans from the controller.
	if hs, ok := host.StatOf(fi); ok {
		id.Dev, id.Inode = hs.Dev, hs.Ino
	}
	return id
}

// mismatch says how got differs from the identity a manifest recorded, or
// "" when it is the same target. modTime says whether a changed
// modification time counts (it does not for a partial first copy, whose
// later writes follow its last checkpoint).
func (want Identity) mismatch(got Identity, modTime bool) string {
	switch {
	case want.Device != got.Device:
		return fmt.Sprintf("the target is another device (%s, the last copy went to %s)", orNone(got.Device), orNone(want.Device))
	case want.Inode != 0 && got.Inode != 0 && (want.Dev != got.Dev || want.Inode != got.Inode):
		// A transport that does not tell inodes (SFTP, where the agent
		// could not start this time) leaves the size and modification
		// time to tell.
		return "the target is another file than the one of the last copy (it was replaced)"
	case want.Size != got.Size:
		return fmt.Sprintf("the target's size changed from %d to %d bytes", want.Size, got.Size)
	case modTime && want.ModTime != got.ModTime:
		return "the target file was modified since the last copy by something else"
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
