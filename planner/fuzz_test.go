package planner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drover-dr/drover/lang"
)

// FuzzImportID feeds import IDs as users type them (`drover import ADDR
// ID`, import blocks) to ImportID: an ID naming a host of the
// configuration becomes {"host": ..., "path": ...} with the path exactly
// as given; any other ID is passed on unchanged.
func FuzzImportID(f *testing.F) {
	for _, s := range []string{"fs1:/etc/motd", "fs2:/srv/a:b", "fs9:/x", "fs1:", ":/etc", "plain-id", "fs1:/ä/\x00"} {
		f.Add(s)
	}
	dir := f.TempDir()
	src := `
host "fs1" { root = "sim/fs1" }
host "fs2" { root = "sim/fs2" }
`
	if err := os.WriteFile(filepath.Join(dir, "main.dr.hcl"), []byte(src), 0o644); err != nil {
		f.Fatal(err)
	}
	cfg, diags := lang.LoadDir(dir)
	if diags.HasErrors() {
		f.Fatal(diags)
	}
	f.Fuzz(func(t *testing.T, id string) {
		got, diags := ImportID(cfg, nil, id)
		name, path, ok := strings.Cut(id, ":")
		if diags.HasErrors() {
			if ok && cfg.Hosts[name] != nil && !utf8.ValidString(path) {
				return
			}
			t.Fatalf("ImportID(%q): %v", id, diags)
		}
		if !ok || cfg.Hosts[name] == nil {
			if got != id {
				t.Fatalf("ImportID(%q) = %q, want the ID unchanged", id, got)
			}
			return
		}
		var doc struct {
			Host struct{ Name string } `json:"host"`
			Path *string               `json:"path"`
		}
		if err := json.Unmarshal([]byte(got), &doc); err != nil {
			t.Fatalf("ImportID(%q) = %q: %v", id, got, err)
		}
		if doc.Host.Name != name || doc.Path == nil || *doc.Path != path {
			t.Fatalf("ImportID(%q) = %q, want host %q and path %q", id, got, name, path)
		}
	})
}
