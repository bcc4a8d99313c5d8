package drives

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/drover-dr/drover/host"
)

// TestCopyTreeNamesWhatItSkips: an entry a restore does not copy (a named
// pipe) is refused in words, not as a mode string like "p---------".
func TestCopyTreeNamesWhatItSkips(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	from, to := host.NewLocal("backup", src), host.NewLocal("fs1", dst)
	defer from.Close()
	defer to.Close()
	err := CopyTree(t.Context(), from, "/pipe", to, "/pipe")
	if err == nil || !strings.Contains(err.Error(), "/pipe is a named pipe, which a restore does not copy") {
		t.Errorf("err = %v, want the pipe named in words", err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "pipe")); !os.IsNotExist(err) {
		t.Errorf("something was made at the destination: %v", err)
	}
}
