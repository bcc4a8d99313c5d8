package nfsconf

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers/builtin/network/nfstest"
)

// TestServe: against a real ganesha.nfsd, an export Put is listed by
// nfs-ls (the server reloaded, not restarted), a new path is taken in
// place of the old, a path the server refuses leaves the export as it
// was, and Remove makes it disappear; a stopped server is named by its
// pid file and nothing is written.
func TestServe(t *testing.T) {
	testenv.Root(t)
	srv := nfstest.New(t, testenv.Command(t, "ganesha.nfsd", "nfs-ganesha nfs-ganesha-vfs"))
	nfsls := testenv.Command(t, "nfs-ls", "libnfs-utils")
	c := Config{Host: host.NewLocal("fs2", ""), Main: srv.Conf, PidFile: srv.PidFile}
	a, b := t.TempDir(), t.TempDir()
	for dir, name := range map[string]string{a: "a.txt", b: "b.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lists := func(want ...string) {
		t.Helper()
		got, err := srv.List(t.Context(), nfsls, "/data")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("nfs-ls /data: %q, want %q", got, want)
		}
	}
	id, err := c.ID(t.Context(), "export-data", "data")
	if err != nil || id != StableID("data") {
		t.Fatalf("ID: %d, %v", id, err)
	}
	e := Export{ID: id, Path: a, Pseudo: "/data", ReadOnly: true}
	if err := c.Put(t.Context(), "export-data", e); err != nil {
		t.Fatal(err)
	}
	lists("a.txt")
	t.Run("another share takes another id", func(t *testing.T) {
		if got, err := c.ID(t.Context(), "export-other", "other"); err != nil || got == id {
			t.Errorf("ID of other: %d, %v", got, err)
		}
		if got, err := c.ID(t.Context(), "export-data", "data"); err != nil || got != id {
			t.Errorf("ID of data again: %d, %v", got, err)
		}
	})
	t.Run("new path", func(t *testing.T) {
		e.Path, e.ReadOnly = b, false
		if err := c.Put(t.Context(), "export-data", e); err != nil {
			t.Fatal(err)
		}
		lists("b.txt")
		if got, _, _ := c.Read(t.Context(), "export-data"); got != e {
			t.Errorf("read back %+v, want %+v", got, e)
		}
	})
	t.Run("refused", func(t *testing.T) {
		bad := e
		bad.Path = filepath.Join(a, "gone")
		err := c.Put(t.Context(), "export-data", bad)
		if err == nil || !strings.Contains(err.Error(), "ganesha.nfsd does not serve /data") || !strings.Contains(err.Error(), "its log says: ") || !strings.Contains(err.Error(), "Config File ("+c.Path("export-data")) {
			t.Fatalf("Put of a missing folder: %v", err)
		}
		lists("b.txt")
		if got, _, _ := c.Read(t.Context(), "export-data"); got != e {
			t.Errorf("read back %+v, want %+v", got, e)
		}
	})
	if err := c.Remove(t.Context(), "export-data"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.List(t.Context(), nfsls, "/data"); err == nil || !strings.Contains(err.Error(), "NFS4ERR_NOENT") {
		t.Errorf("nfs-ls after Remove: %v", err)
	}
	if _, err := os.Stat(c.Path("export-data")); !os.IsNotExist(err) {
		t.Errorf("the export's file is left: %v", err)
	}
	t.Run("not running", func(t *testing.T) {
		srv.Stop()
		err := c.Put(t.Context(), "export-data", e)
		var nr *NotRunningError
		if !errors.As(err, &nr) || !strings.Contains(err.Error(), "ganesha.nfsd is not running for "+srv.PidFile) {
			t.Fatalf("Put with the server stopped: %v", err)
		}
		if _, err := os.Stat(c.Path("export-data")); !os.IsNotExist(err) {
			t.Errorf("the export's file is written: %v", err)
		}
	})
}

// TestIncludeOnce: the main configuration gets the %include line once,
// at its end, and the index it names exists.
func TestIncludeOnce(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "ganesha.conf")
	if err := os.WriteFile(main, []byte("NFS_CORE_PARAM { NFS_Port = 2049; }"), 0o640); err != nil {
		t.Fatal(err)
	}
	c := Config{Host: host.NewLocal("fs2", ""), Main: main}
	for range 2 {
		if err := c.files().Include(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(main)
	want := "NFS_CORE_PARAM { NFS_Port = 2049; }\n\n# Exports Drover manages: the files of " + filepath.Join(dir, "drover.d") +
		" (leave them to Drover).\n%include \"" + filepath.Join(dir, "drover.d", "index.conf") + "\"\n"
	if string(got) != want {
		t.Errorf("main configuration:\n%s\nwant:\n%s", got, want)
	}
	if _, err := os.Stat(c.files().Index()); err != nil {
		t.Errorf("the index the line names: %v", err)
	}
	if _, err := Parse(got); err != nil {
		t.Errorf("the main configuration no longer parses: %v", err)
	}
}
