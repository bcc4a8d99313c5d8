package drives

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
)

// TestUndoPutsBackWhatCopyRangeOverwrote: CopyRange saves each chunk it
// overwrites in an undo file first; PutBack writes them back, also when the
// file ends in a torn record (a crash between saving and writing).
func TestUndoPutsBackWhatCopyRangeOverwrote(t *testing.T) {
	ctx := context.Background()
	h := host.NewLocal("t", "")
	dir := t.TempDir()
	src, dst, undo := filepath.Join(dir, "backup.img"), filepath.Join(dir, "drive.img"), filepath.Join(dir, "p1.undo")
	const size = 12 << 20
	before := bytes.Repeat([]byte("drive "), size/6)
	backup := bytes.Clone(before)
	copy(backup[5<<20:], "restored bytes") // one 4 MiB chunk differs
	copy(backup[9<<20:], "restored too")   // and another
	for p, b := range map[string][]byte{src: backup, dst: before} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	differ, err := DiffRange(ctx, h, src, 0, dst, 0, size, nil)
	if err != nil || differ != 8<<20 {
		t.Fatalf("DiffRange: %d bytes differ, %v; want 8 MiB", differ, err)
	}
	u, err := CreateUndo(ctx, h, undo, UndoHeader{Target: dst, Start: 0, Size: size, Restore: "partition 1 of backup.img"})
	if err != nil {
		t.Fatal(err)
	}
	written, err := CopyRange(ctx, h, src, 0, dst, 0, size, u.Save, nil)
	u.Close()
	if err != nil || written != 8<<20 {
		t.Fatalf("CopyRange wrote %d bytes, %v", written, err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, backup) {
		t.Fatal("the drive does not hold the backup after the restore")
	}

	for _, tc := range []struct {
		name string
		tail []byte
	}{
		{"clean", nil},
		{"torn record", []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := filepath.Join(t.TempDir(), "p1.undo")
			b, _ := os.ReadFile(undo)
			if err := os.WriteFile(u, append(b, tc.tail...), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, backup, 0o600); err != nil {
				t.Fatal(err)
			}
			hdr, n, err := PutBack(ctx, h, u, func(UndoHeader) error { return nil }, nil)
			if err != nil || n != 8<<20 || hdr.Target != dst {
				t.Fatalf("PutBack: %+v, %d bytes, %v", hdr, n, err)
			}
			if got, _ := os.ReadFile(dst); !bytes.Equal(got, before) {
				t.Fatal("the drive is not as it was before the restore")
			}
		})
	}

	if _, _, err := PutBack(ctx, h, src, func(UndoHeader) error { return nil }, nil); err == nil || !strings.Contains(err.Error(), "not an undo file") {
		t.Fatalf("PutBack of a file that is no undo file: %v", err)
	}
}
