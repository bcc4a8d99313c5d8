package sambaconf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestPutUndoneWhenReloadFails: with no smbd running for the
// configuration, Put fails naming smbcontrol's answer and leaves the files
// as they were: a new part gone, a changed part back to its old content,
// the index as before.
func TestPutUndoneWhenReloadFails(t *testing.T) {
	testenv.Command(t, "smbcontrol", "samba-common-bin")
	dir := t.TempDir()
	main := filepath.Join(dir, "smb.conf")
	// pid directory points at an empty folder: smbcontrol finds no smbd.
	if err := os.WriteFile(main, []byte("[global]\n  pid directory = "+dir+"\n  lock directory = "+dir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Config{Host: host.NewLocal("fs2", ""), Main: main}
	old := []Section{{Name: "data", Params: []Param{{Key: "path", Value: "/srv/old"}}}}
	if err := os.MkdirAll(c.Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.Path("share-data"), Format(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.files().WriteIndex(t.Context()); err != nil {
		t.Fatal(err)
	}
	index, _ := os.ReadFile(c.files().Index())

	for _, tc := range []struct {
		name, part string
	}{
		{"new part", "share-new"},
		{"changed part", "share-data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Put(t.Context(), tc.part, []Section{{Name: "x", Params: []Param{{Key: "path", Value: "/srv/new"}}}})
			var nr *NotRunningError
			if !errors.As(err, &nr) || !strings.Contains(err.Error(), "Can't find pid") {
				t.Fatalf("Put with no smbd: %v", err)
			}
			got, found, err := c.Read(t.Context(), "share-data")
			if err != nil || !found {
				t.Fatalf("share-data: %v, found %v", err, found)
			}
			if diff := cmp.Diff(old, got); diff != "" {
				t.Errorf("share-data after the failed Put (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(c.Path("share-new")); !os.IsNotExist(err) {
				t.Errorf("share-new is left: %v", err)
			}
			if now, _ := os.ReadFile(c.files().Index()); string(now) != string(index) {
				t.Errorf("index after the failed Put:\n%s\nwant:\n%s", now, index)
			}
		})
	}
	t.Run("remove", func(t *testing.T) {
		if err := c.Remove(t.Context(), "share-data"); err == nil {
			t.Fatal("Remove with no smbd succeeded")
		}
		if _, found, _ := c.Read(t.Context(), "share-data"); !found {
			t.Error("share-data is gone after the failed Remove")
		}
	})
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Section
		err      string
	}{
		{"sections", "# c\n[global]\n  netbios aliases = A B\n; c\n[data]\npath=/srv/data\n  comment = a = b \\\n  c\n",
			[]Section{{Name: "global", Params: []Param{{"netbios aliases", "A B"}}}, {Name: "data", Params: []Param{{"path", "/srv/data"}, {"comment", "a = b c"}}}}, ""},
		{"round trip", string(Format([]Section{{Name: "x y", Params: []Param{{"read only", "no"}}}})),
			[]Section{{Name: "x y", Params: []Param{{"read only", "no"}}}}, ""},
		{"unclosed", "[data\n", nil, "line 1: a section name without its closing ]"},
		{"no section", "path = /x\n", nil, "line 1: a parameter before any [section]"},
		{"no equals", "[a]\nfoo\n", nil, `line 2: "foo" is not "key = value"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestIncludeOnce: the main configuration gets the include line once, at
// its end, keeping its mode; one that is a symlink stays a symlink and the
// file it points to gets the line.
func TestIncludeOnce(t *testing.T) {
	for _, link := range []bool{false, true} {
		t.Run(map[bool]string{false: "file", true: "symlink"}[link], func(t *testing.T) {
			dir := t.TempDir()
			real := filepath.Join(dir, "real.conf")
			if err := os.WriteFile(real, []byte("[global]\n  workgroup = DROVER"), 0o640); err != nil {
				t.Fatal(err)
			}
			main := real
			if link {
				main = filepath.Join(dir, "smb.conf")
				if err := os.Symlink("real.conf", main); err != nil {
					t.Fatal(err)
				}
			}
			c := Config{Host: host.NewLocal("fs2", ""), Main: main}
			for range 2 {
				if err := c.files().Include(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(real)
			if err != nil {
				t.Fatal(err)
			}
			want := "[global]\n  workgroup = DROVER\n\n# Shares and names Drover manages: the files of " + filepath.Join(dir, "drover.d") +
				" (leave them to Drover).\ninclude = " + filepath.Join(dir, "drover.d", "index.conf") + "\n"
			if diff := cmp.Diff(want, string(got)); diff != "" {
				t.Errorf("main configuration (-want +got):\n%s", diff)
			}
			if fi, err := os.Lstat(main); err != nil || link != (fi.Mode()&os.ModeSymlink != 0) {
				t.Errorf("%s: %v, %v", main, fi.Mode(), err)
			}
			if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want 0640", fi.Mode().Perm())
			}
			if _, err := os.Stat(c.files().Index()); err != nil {
				t.Errorf("the index the line names: %v", err)
			}
		})
	}
}

// FuzzParse: Parse never panics, and what it reads, Format writes so that
// Parse reads it again the same.
func FuzzParse(f *testing.F) {
	f.Add([]byte("[global]\n  netbios aliases = A B\n[data]\npath=/srv/data\n  comment = a \\\n b\n"))
	f.Add([]byte("; c\n# c\n[x y]\nread only = no\n"))
	f.Add([]byte("[a]\nk = v\\"))
	f.Add([]byte("[a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sections, err := Parse(b)
		if err != nil {
			return
		}
		again, err := Parse(Format(sections))
		if err != nil {
			t.Fatalf("Parse(Format(%q)): %v", sections, err)
		}
		if diff := cmp.Diff(sections, again, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("round trip of %q (-first +again):\n%s", b, diff)
		}
	})
}
