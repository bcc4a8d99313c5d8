package host

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestOpenFileRandomAccess(t *testing.T) {
	ctx := context.Background()
	h, root := rootedHost(t)
	if err := h.MkdirAll(ctx, "/img", 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := h.OpenFile(ctx, "/img/disk.img", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 1 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	block := bytes.Repeat([]byte{0xab}, 64<<10)
	if _, err := f.WriteAt(block, 128<<10); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteBack(128<<10, int64(len(block))); err != nil {
		t.Errorf("WriteBack: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(block))
	if _, err := f.ReadAt(got, 128<<10); err != nil || !bytes.Equal(got, block) {
		t.Fatalf("ReadAt after WriteAt: %v", err)
	}
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != size {
		t.Errorf("Seek end = %d, %v", end, err)
	}
	if err := f.DropCache(0, size); err != nil {
		t.Errorf("DropCache: %v", err)
	}
	if err := f.Prefetch(0, size); err != nil {
		t.Errorf("Prefetch: %v", err)
	}
	if err := f.Sequential(); err != nil {
		t.Errorf("Sequential: %v", err)
	}

	switch err := f.PunchHole(128<<10, 64<<10); {
	case errors.Is(err, errors.ErrUnsupported):
		t.Log("the test folder's file system cannot punch holes")
	case err != nil:
		t.Fatal(err)
	default:
		if _, err := f.ReadAt(got, 128<<10); err != nil || !bytes.Equal(got, make([]byte, len(got))) {
			t.Errorf("a punched range does not read as zeros: %v", err)
		}
		fi, err := os.Stat(filepath.Join(root, "img/disk.img"))
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Blocks != 0 {
			t.Errorf("the image still takes %d sectors after punching its only data", st.Blocks)
		}
	}

	if _, err := h.OpenFile(ctx, "/img/disk.img", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL on an existing file: %v", err)
	}
	if _, err := h.OpenFile(ctx, "/../escape", os.O_RDONLY, 0); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("opening outside the root: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.OpenFile(cancelled, "/img/disk.img", os.O_RDONLY, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("OpenFile with a cancelled context: %v", err)
	}
}
