//go:build linux || openbsd

package agent

import (
	"io/fs"
	"syscall"
)

func identityOf(fi fs.FileInfo) (identity, bool) {
	s, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return identity{}, false
	}
	return identity{Dev: uint64(s.Dev), Ino: uint64(s.Ino), Size: s.Size,
		MTime: s.Mtim.Nano(), CTime: s.Ctim.Nano()}, true
}
