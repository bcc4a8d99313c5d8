package host

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestReadDirEntryInfo expects the entries a rooted host lists to describe
// the files below its root, whatever the working folder holds under the
// same names.
func TestReadDirEntryInfo(t *testing.T) {
	work := t.TempDir()
	root := filepath.Join(work, "root")
	if err := os.MkdirAll(filepath.Join(root, "srv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "srv", "f"), []byte("below the root"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same name relative to the working folder, with other content.
	if err := os.MkdirAll(filepath.Join(work, "srv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "srv", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	h := NewLocal("fs1", "root")
	defer h.Close()
	entries, err := h.ReadDir(context.Background(), "/srv")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("ReadDir listed %d entries, want 1", len(entries))
	}
	fi, err := entries[0].Info()
	if err != nil {
		t.Fatalf("Info of %s: %v", entries[0].Name(), err)
	}
	if fi.Size() != int64(len("below the root")) {
		t.Errorf("Info of %s gives %d bytes, want the file below the root (%d)", entries[0].Name(), fi.Size(), len("below the root"))
	}
}
