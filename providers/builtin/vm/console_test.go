package vm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
)

// TestNewConsole: a start's console file is new and empty whatever was at
// its path, a symlink replaced and its target left as it was, and nothing
// else is left in its folder.
func TestNewConsole(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(t *testing.T, console, precious string)
	}{
		{"in a folder still missing", func(t *testing.T, console, precious string) {}},
		{"over an earlier boot's console", func(t *testing.T, console, precious string) {
			os.MkdirAll(filepath.Dir(console), 0o755)
			if err := os.WriteFile(console, []byte("FS1 READY\r\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"over a symlink", func(t *testing.T, console, precious string) {
			os.MkdirAll(filepath.Dir(console), 0o755)
			if err := os.Symlink(precious, console); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			precious := filepath.Join(dir, "precious")
			if err := os.WriteFile(precious, []byte("keep me\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			console := filepath.Join(dir, "var/lib/drover/fs1.serial")
			tc.before(t, console, precious)
			h, err := host.Config{Name: "fs2", Root: dir}.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if err := newConsole(t.Context(), h, "/var/lib/drover/fs1.serial"); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Lstat(console); err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
				t.Errorf("the console: %v, %v; want an empty file", fi, err)
			}
			if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me\n" {
				t.Errorf("the symlink's target: %q, %v", b, err)
			}
			if entries, err := os.ReadDir(filepath.Dir(console)); err != nil || len(entries) != 1 {
				t.Errorf("the console's folder holds %v (%v), want the console alone", entries, err)
			}
		})
	}
}
