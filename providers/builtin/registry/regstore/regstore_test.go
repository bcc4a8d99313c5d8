package regstore

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/testenv"
	"github.com/drover-dr/drover/providers/builtin/registry/regtext"
	"github.com/google/go-cmp/cmp"
)

// start is the hive every test begins with.
const start = `Windows Registry Editor Version 5.00

[\Vendor]
"Keep"="same"

[\Vendor\Product]
"Port"=dword:00000050
"Name"="fs1"
"Blob"=hex:01,02,03

[\Vendor\Product\Sub]
@="default"

[\Vendor\Product\Sub\Deeper]
"x"=dword:00000001
`

func newStore(t *testing.T, prefix string) (Store, host.Host, string) {
	t.Helper()
	root := t.TempDir()
	h := host.NewLocal("fs1", root)
	t.Cleanup(func() { h.Close() })
	ctx := t.Context()
	if err := CreateHive(ctx, h, "/hives/SOFTWARE"); err != nil {
		t.Fatal(err)
	}
	s, err := Open(h, false, Options{Hive: "/hives/SOFTWARE", Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	doc := decode(t, start)
	if prefix != "" {
		for i := range doc.Keys {
			doc.Keys[i].Path = prefix + doc.Keys[i].Path
		}
	}
	if _, err := s.Import(ctx, doc.Keys, nil); err != nil {
		t.Fatal(err)
	}
	return s, h, filepath.Join(root, "hives", "SOFTWARE")
}

func decode(t *testing.T, text string) *regtext.Document {
	t.Helper()
	doc, err := regtext.Decode("test.reg", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// text renders exported keys as a UTF-8 .reg file, without line numbers.
func text(t *testing.T, keys []regtext.Key) string {
	t.Helper()
	for i := range keys {
		keys[i].Line = 0
		for j := range keys[i].Values {
			keys[i].Values[j].Line = 0
		}
	}
	b, err := regtext.Encode(&regtext.Document{Encoding: regtext.UTF8, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exportAll(t *testing.T, s Store) string {
	t.Helper()
	keys, err := s.Export(t.Context(), `\`, true)
	if err != nil {
		t.Fatal(err)
	}
	return text(t, keys)
}

func TestImportAndUndo(t *testing.T) {
	for _, tc := range []struct {
		name, reg string
		want      []string // lines the export must then hold
	}{
		{"set existing and new values", `[\Vendor\Product]
"Port"=dword:00000051
"New"="n"
"Port"=dword:00000052
`, []string{`"Port"=dword:00000052`, `"New"="n"`}},
		{"delete values", `[\Vendor\Product]
"Name"=-
"Missing"=-
`, nil},
		{"create missing parents", `[\New\A\B]
"v"=hex(b):01,00,00,00,00,00,00,00
`, []string{`[\New\A\B]`, `"v"=hex(b):01,00,00,00,00,00,00,00`}},
		{"delete subtree", `[-\Vendor\Product\Sub]
[-\Not\There]
`, nil},
		{"delete then recreate", `[-\Vendor\Product]
[\Vendor\Product]
"Port"=dword:00000001
`, []string{`"Port"=dword:00000001`}},
		{"default value", `[\Vendor]
@="d"
`, []string{`@="d"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := newStore(t, "")
			before := exportAll(t, s)
			undo, err := s.Import(t.Context(), decode(t, "Windows Registry Editor Version 5.00\n\n"+tc.reg).Keys, nil)
			if err != nil {
				t.Fatal(err)
			}
			after := exportAll(t, s)
			for _, line := range tc.want {
				if !strings.Contains(after, line+"\n") {
					t.Errorf("after the import the hive lacks %s:\n%s", line, after)
				}
			}
			if after == before {
				t.Error("the import changed nothing")
			}
			if _, err := s.Import(t.Context(), undo, nil); err != nil {
				t.Fatalf("importing the undo sections: %v\n%s", err, text(t, undo))
			}
			if diff := cmp.Diff(before, exportAll(t, s)); diff != "" {
				t.Errorf("the undo sections do not restore the hive (-before +after undo):\n%s\nundo:\n%s", diff, text(t, undo))
			}
		})
	}
}

// TestFailedImportLeavesFile checks that an import failing part way
// leaves the hive file byte for byte as it was.
func TestFailedImportLeavesFile(t *testing.T) {
	for _, tc := range []struct {
		name, reg, want string
	}{
		{"long key name", "[\\Vendor\\Product]\n\"Port\"=-\n\n[\\Vendor\\" + strings.Repeat("x", 300) + "]\n", "line 6: the key name"},
		{"root deleted", "[\\Vendor]\n\"Keep\"=-\n\n[-\\]\n", "line 6: the root of a registry cannot be deleted"},
		{"bad name", "[\\Vendor]\n\"Keep\"=-\n\n[Vendor\\x]\n", "line 6: the key \"Vendor\\\\x\" of a hive file must start with a backslash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, file := newStore(t, "")
			before, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Import(t.Context(), decode(t, "Windows Registry Editor Version 5.00\n\n"+tc.reg).Keys, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			after, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if string(before) != string(after) {
				t.Error("a failed import changed the hive file")
			}
		})
	}
}

func TestPrefix(t *testing.T) {
	s, _, _ := newStore(t, `HKLM\SOFTWARE`)
	keys, err := s.Export(t.Context(), `\Vendor\Product`, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Path != `HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\Product` {
		t.Errorf("exported %+v", keys)
	}
	if _, err := s.Import(t.Context(), decode(t, "REGEDIT4\n\n[hkey_local_machine\\software\\Vendor]\n\"a\"=dword:1\n").Keys, nil); err != nil {
		t.Errorf("a prefix in another case: %v", err)
	}
	_, err = s.Import(t.Context(), decode(t, "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\n").Keys, nil)
	if err == nil || !strings.Contains(err.Error(), `line 3: the key HKEY_LOCAL_MACHINE\SYSTEM\Select is not inside HKEY_LOCAL_MACHINE\SOFTWARE, where this hive is loaded`) {
		t.Errorf("a key outside the prefix: %v", err)
	}
	if _, err := s.Export(t.Context(), `\Nope`, true); !errors.Is(err, ErrNoKey) {
		t.Errorf("exporting a missing key: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	h := host.NewLocal("fs1", t.TempDir())
	defer h.Close()
	for _, tc := range []struct {
		opts  Options
		local bool
		want  string
	}{
		{Options{Hive: Live}, false, "the live registry is reachable only on the Windows machine Drover runs on"},
		{Options{Hive: Live}, true, "the live registry exists only on Windows"},
		{Options{Hive: Live, Prefix: "HKLM"}, true, "prefix is for hive files"},
		{Options{Hive: "SOFTWARE"}, false, `hive "SOFTWARE" is neither "live" nor an absolute path`},
		{Options{Hive: "/h", Prefix: `SOFTWARE\X`}, false, `prefix "SOFTWARE\\X" does not start with a root key`},
		{Options{Hive: "/h", Prefix: `HKLM\\X`}, false, "has an empty key name"},
	} {
		if _, err := Open(h, tc.local, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v): %v, want %q", tc.opts, err, tc.want)
		}
	}
	s, _ := Open(h, false, Options{Hive: "/missing"})
	if _, err := s.Export(t.Context(), `\`, true); err == nil || !strings.Contains(err.Error(), `hive file /missing on host "fs1" does not exist`) {
		t.Errorf("a missing hive: %v", err)
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.WriteFile(t.Context(), "/boot.ini", strings.NewReader("[boot loader]\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ = Open(h, false, Options{Hive: "/boot.ini"})
	if _, err := s.Export(t.Context(), `\`, true); err == nil || !strings.Contains(err.Error(), `hive file /boot.ini on host "fs1": not a valid registry hive: the file does not start with the "regf" signature`) {
		t.Errorf("a file that is not a hive: %v", err)
	}
}

// TestAgainstHivexregedit merges the same .reg file with hivexregedit, an
// independent implementation, and compares what both hives export.
func TestAgainstHivexregedit(t *testing.T) {
	exe := testenv.Command(t, "hivexregedit", "libwin-hivex-perl")
	reg := `Windows Registry Editor Version 5.00

[\Vendor\Product]
"Port"=dword:00000051
"Name"=-
"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00
"Expand"=hex(2):25,00,58,00,25,00,00,00
"Q"=hex(b):01,02,03,04,05,06,07,08
"None"=hex(0):
"Odd"=hex(123):ff
"Esc"="a \"quoted\" \\ path"

[-\Vendor\Product\Sub]

[\Vendor\New]
@="x"
`
	ours, _, _ := newStore(t, "")
	theirs, _, file := newStore(t, "")
	if _, err := ours.Import(t.Context(), decode(t, reg).Keys, nil); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "--merge", file)
	cmd.Stdin = strings.NewReader(reg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hivexregedit --merge: %v\n%s", err, out)
	}
	if diff := cmp.Diff(exportAll(t, theirs), exportAll(t, ours)); diff != "" {
		t.Errorf("hives differ (-hivexregedit +ours):\n%s", diff)
	}
	out, err := exec.Command(exe, "--export", file, `\Vendor`).Output()
	if err != nil {
		t.Fatal(err)
	}
	doc := decode(t, string(out))
	if got, want := text(t, doc.Keys), exportAll(t, ours); !strings.Contains(want, strings.TrimPrefix(got, "Windows Registry Editor Version 5.00\n")) {
		t.Errorf("hivexregedit's export, read by regtext, differs from ours:\n%s\nours:\n%s", got, want)
	}
}

func TestCreateHiveKeepsExisting(t *testing.T) {
	_, h, file := newStore(t, "")
	before, _ := os.ReadFile(file)
	if err := CreateHive(context.Background(), h, "/hives/SOFTWARE"); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Error("CreateHive replaced an existing hive")
	}
}

func TestFailedSaveLeavesFile(t *testing.T) {
	s, _, file := newStore(t, "")
	before, _ := os.ReadFile(file)
	var saved []regtext.Key
	_, err := s.Import(t.Context(), decode(t, "REGEDIT4\n\n[\\Vendor]\n\"Keep\"=-\n").Keys, func(undo []regtext.Key) error {
		saved = undo
		return errors.New("disk full")
	})
	if err == nil || err.Error() != "disk full" || len(saved) != 1 {
		t.Fatalf("error %v, undo %+v", err, saved)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Error("an import whose undo could not be saved changed the hive")
	}
}
