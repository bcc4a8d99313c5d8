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
	case known(want.Inode, got.Inode) && (want.Dev != got.Dev || want.Inode != got.Inode):
		return "the target is another file than the one of the last copy (it was replaced)"
	case want.Size != got.Size:
		return fmt.Sprintf("the target's size changed from %d to %d bytes", want.Size, got.Size)
	case modTime && !sameTime(want.ModTime, got.ModTime):
		return "the target file was modified since the last copy by something else"
	}
	return ""
}

// known says whether both identities know the inode: a transport that
// cannot tell it (SFTP) reads it as 0, and that is no replacement.
func known(a, b uint64) bool { return a != 0 && b != 0 }

// sameTime compares modification times in nanoseconds at the precision
// both have: SFTP tells whole seconds where the machine itself (a local
// host, the agent) tells nanoseconds.
func sameTime(a, b int64) bool {
	const second = int64(1e9)
	if a%second == 0 || b%second == 0 {
		return a/second == b/second
	}
	return a == b
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
