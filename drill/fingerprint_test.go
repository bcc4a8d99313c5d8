package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name string
		// change is what a drill would do to production, below root.
		change func(t *testing.T, root string)
		want   []Change
	}{
		{"nothing", func(t *testing.T, root string) {
			// Reading is no change.
			os.ReadFile(filepath.Join(root, "replica", "etc", "dr.conf"))
		}, nil},
		{"content of the same size", func(t *testing.T, root string) {
			p := filepath.Join(root, "replica", "etc", "dr.conf")
			fi, _ := os.Stat(p)
			b, _ := os.ReadFile(p)
			b[0] ^= 1
			os.WriteFile(p, b, 0o644)
			os.Chtimes(p, fi.ModTime(), fi.ModTime())
		}, []Change{{"REPLICA/etc/dr.conf", "content changed"}}},
		{"a hive written", func(t *testing.T, root string) {
			os.WriteFile(filepath.Join(root, "SYSTEM"), []byte("imported"), 0o600)
		}, []Change{{"HIVE", "8 bytes, were 4096, content changed, modification time changed"}}},
		{"files added and removed", func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, "replica", "srv", "data", "a.bin"))
			os.WriteFile(filepath.Join(root, "replica", "srv", "new"), nil, 0o644)
		}, []Change{{"REPLICA/srv/data/a.bin", "removed"}, {"REPLICA/srv/new", "added"}}},
		{"a mode and a link", func(t *testing.T, root string) {
			os.Chmod(filepath.Join(root, "replica", "etc", "dr.conf"), 0o600)
			os.Remove(filepath.Join(root, "replica", "srv", "conf"))
			os.Symlink("/etc/passwd", filepath.Join(root, "replica", "srv", "conf"))
		}, []Change{{"REPLICA/etc/dr.conf", "mode -rw-------, was -rw-r--r--"}, {"REPLICA/srv/conf", `link to "/etc/passwd", was "../etc/dr.conf"`}}},
		{"a file become a folder", func(t *testing.T, root string) {
			os.Remove(filepath.Join(root, "SYSTEM"))
			os.Mkdir(filepath.Join(root, "SYSTEM"), 0o700)
		}, []Change{{"HIVE", "was a regular file, now a folder"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			replica := tree(t, root)
			hive := filepath.Join(root, "SYSTEM")
			randomFile(t, hive, 4096, 6)
			old := time.Now().Add(-time.Hour)
			filepath.Walk(root, func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
			before, err := Fingerprint(ctx, machine, replica, hive)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(t, root)
			after, err := Fingerprint(ctx, machine, replica, hive)
			if err != nil {
				t.Fatal(err)
			}
			names := strings.NewReplacer("REPLICA", replica, "HIVE", hive)
			for i, c := range tc.want {
				tc.want[i].Path = names.Replace(c.Path)
			}
			if diff := cmp.Diff(tc.want, Changes(before, after)); diff != "" {
				t.Errorf("Changes (-want +got):\n%s", diff)
			}
		})
	}
}
