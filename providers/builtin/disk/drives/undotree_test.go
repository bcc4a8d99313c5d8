package drives

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/google/go-cmp/cmp"
)

// TestTreeUndoPutsBackWhatARestoreChanged: a --path restore from the
// backup over the source, kept in a tree undo first, is put back exactly:
// changed files (a file become a folder among them) get their content and
// mode back, entries it created go, nested folders included, and what only
// the source has stays.
func TestTreeUndoPutsBackWhatARestoreChanged(t *testing.T) {
	src, bak, work := t.TempDir(), t.TempDir(), t.TempDir()
	write := func(root string, files map[string]string) {
		for p, content := range files {
			full := filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(content), 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(src, map[string]string{"etc/hosts": "127.0.0.1 fs2\n", "etc/conf": "a file here", "new.txt": "new\n", "same.txt": "same\n"})
	write(bak, map[string]string{"etc/hosts": "127.0.0.1 fs1\n", "etc/conf/main": "a folder there", "report/q1/figures.txt": "figures\n", "same.txt": "same\n"})
	if err := os.Chmod(filepath.Join(src, "etc/hosts"), 0o600); err != nil {
		t.Fatal(err)
	}
	read := func(root string) map[string]string {
		got := map[string]string{}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == root {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			fi, _ := d.Info()
			if d.IsDir() {
				got[rel+"/"] = ""
				return nil
			}
			b, _ := os.ReadFile(p)
			got[rel] = fi.Mode().String() + " " + string(b)
			return nil
		})
		return got
	}
	before := read(src)

	ctx := t.Context()
	source, backup, h := host.NewLocal("fs1", src), host.NewLocal("backup", bak), host.NewLocal("local", work)
	defer source.Close()
	defer backup.Close()
	defer h.Close()
	changes, err := CompareTrees(ctx, source, backup, "/")
	if err != nil {
		t.Fatal(err)
	}
	overwritten, created := TreeUndoChanges(changes)
	if diff := cmp.Diff([]string{"/etc/conf", "/etc/hosts"}, overwritten); diff != "" {
		t.Errorf("overwritten (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/report"}, created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	hdr := TreeUndoHeader{Source: "/dev/sda", Partition: 1, Overwritten: overwritten, Created: created, Restore: "/ of partition 1"}
	if err := SaveTree(ctx, h, "/r.undo", hdr, source); err != nil {
		t.Fatal(err)
	}
	if err := SaveTree(ctx, h, "/r.undo", hdr, source); err == nil {
		t.Error("a second SaveTree into the same folder did not fail")
	}
	// The restore itself: the source removes the file the backup has a
	// folder for, as CopyTree does with a file in the way of a folder.
	if err := CopyTree(ctx, backup, "/", source, "/"); err != nil {
		t.Fatal(err)
	}
	if got := read(src)["etc/conf/main"]; got == "" {
		t.Fatalf("the restore did not write etc/conf/main: %v", read(src))
	}

	got, err := PutBackTree(ctx, h, "/r.undo", source)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(hdr, got); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, read(src)); diff != "" {
		t.Errorf("the source after putting back (-before +after):\n%s", diff)
	}

	if _, err := ReadTreeUndo(ctx, h, "/"); err == nil {
		t.Error("a folder without undo.json was taken for an undo")
	}
}
