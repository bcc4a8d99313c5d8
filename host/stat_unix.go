//go:build unix

package host

import "syscall"

func sysStat(sys any) (Stat, bool) {
	s, ok := sys.(*syscall.Stat_t)
	if !ok {
		return Stat{}, false
	}
	return Stat{UID: int(s.Uid), GID: int(s.Gid), Dev: uint64(s.Dev), Ino: uint64(s.Ino), Nlink: uint64(s.Nlink), Blocks: int64(s.Blocks)}, true
}
