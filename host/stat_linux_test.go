package host

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestModeKind names the kind of real files of each kind.
func TestModeKind(t *testing.T) {
	testenv.Root(t) // for the block device node
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	if err := os.WriteFile(at("file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", at("link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(at("pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(at("block"), unix.S_IFBLK|0o600, int(unix.Mkdev(7, 0))); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", at("socket"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tests := []struct{ path, want string }{
		{at("file"), "regular file"},
		{dir, "folder"},
		{at("link"), "symlink"},
		{at("pipe"), "named pipe"},
		{at("block"), "block device"},
		{"/dev/null", "character device"},
		{at("socket"), "socket"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			fi, err := os.Lstat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := ModeKind(fi.Mode()); got != tt.want {
				t.Errorf("ModeKind(%v) = %q, want %q", fi.Mode(), got, tt.want)
			}
		})
	}
}
