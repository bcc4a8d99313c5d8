package lang

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestLoadDirDiagnostics loads every testdata/load/<case> folder and
// compares the rendered diagnostics with <case>/diagnostics.golden.
func TestLoadDirDiagnostics(t *testing.T) {
	cases, err := os.ReadDir("testdata/load")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata", "load", c.Name())
			cfg, diags := LoadDir(dir)
			if cfg == nil {
				t.Fatal("LoadDir returned a nil Config")
			}
			var b bytes.Buffer
			if err := WriteDiagnostics(&b, cfg.Files, diags, DiagnosticWriterOptions{}); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join(dir, "diagnostics.golden"), b.Bytes())
		})
	}
}
