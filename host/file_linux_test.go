package host

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMetadataFile expects a temp file of a rooted host to take its owner,
// mode (setuid bit included) and modification time to the nanosecond
// through the open file, its access time left as it was.
func TestMetadataFile(t *testing.T) {
	ctx := context.Background()
	h, root := rootedHost(t)
	out, tmp, err := h.CreateTemp(ctx, "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	f, ok := out.(MetadataFile)
	if !ok {
		t.Fatalf("a local temp file (%T) is not a MetadataFile", out)
	}
	before, err := os.Lstat(filepath.Join(root, tmp))
	if err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1_700_000_000, 123_456_789)
	if _, err := f.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := f.Chown(os.Getuid(), os.Getgid()); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod(0o751 | fs.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	if err := f.SetModTime(mtime); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(root, tmp))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode(), 0o751|fs.ModeSetuid; got != want {
		t.Errorf("mode %v, want %v", got, want)
	}
	if !fi.ModTime().Equal(mtime) {
		t.Errorf("modification time %v, want %v", fi.ModTime(), mtime)
	}
	atime := func(fi fs.FileInfo) syscall.Timespec { return fi.Sys().(*syscall.Stat_t).Atim }
	if atime(fi) != atime(before) {
		t.Errorf("access time %v, was %v", atime(fi), atime(before))
	}
}
