package local

import (
	"os"
	"path/filepath"

	"github.com/drover-dr/drover/internal/atomicfile"
)

// removeDurably removes path, if it exists, and syncs its folder.
func removeDurably(path string) error {
	if err := os.Remove(path); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}
