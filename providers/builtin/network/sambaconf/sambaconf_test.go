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
	if err := c.writeIndex(t.Context()); err != nil {
		t.Fatal(err)
	}
	index, _ := os.ReadFile(c.index())

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
			if now, _ := os.ReadFile(c.index()); string(now) != string(index) {
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
