//go:build !windows

package regstore

import (
	"fmt"
	"runtime"
)

func openLive() (Store, error) {
	return nil, fmt.Errorf("the live registry exists only on Windows, and Drover runs on %s here; give hive the path of a hive file instead", runtime.GOOS)
}
