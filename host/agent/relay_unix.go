//go:build unix

package agent

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedHere says whether fi is a folder of this process's user: the only
// relay folders an agent sweeps.
func ownedHere(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.IsDir() && int(st.Uid) == os.Getuid()
}
