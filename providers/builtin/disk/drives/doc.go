// Package drives knows drives as a machine shows them: image files and
// block devices, their size, sector size and partition table, what mounts
// or holds them, how busy they are (for a quiet period), how to take a
// point-in-time view of one (reflink clone, btrfs snapshot, fsfreeze), and
// how to look inside a copy read-only (loop devices, partx, mount) to
// compare or restore files, keeping an undo folder of the files a restore
// overwrites, and how to compare or restore a range of bytes keeping an
// undo file of what it overwrites.
//
// It works through host.Host only: files are opened with OpenFile, kernel
// facts come from /proc and /sys read as files, and every change to the
// machine (losetup, partx, mount, fsfreeze, blockdev) runs as an argv. On a
// host rooted at a folder there are no /proc or /sys below the root, so
// image files there show no mounts or holders.
//
// It does not copy blocks (package blocks does) and knows nothing of
// resources, cty or plans (package disk does).
package drives
