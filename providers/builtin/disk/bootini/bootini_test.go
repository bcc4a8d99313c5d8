package bootini

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// standby is the BOOT.INI of a dual-boot standby: its own OS and the
// replicated source OS, with comments, an unknown section, odd case and
// spacing, CRLF line ends and no line end at the very end.
const standby = "; dual-boot standby FS2\r\n" +
	"[Boot Loader]\r\n" +
	"Timeout = 30\r\n" +
	"default=multi(0)disk(0)rdisk(0)partition(1)\\WINNT\r\n" +
	"\r\n" +
	"[operating systems]\r\n" +
	"multi(0)disk(0)rdisk(0)partition(1)\\WINNT=\"FS2 - Windows 2000 Server\" /fastdetect\r\n" +
	"; the replicated source OS\r\n" +
	"multi(0)disk(0)rdisk(0)partition(2)\\WINNT=\"FS1 - Windows 2000 Server\" /fastdetect /sos\r\n" +
	"C:\\CMDCONS\\BOOTSECT.DAT=\"Recovery Console\" /cmdcons\r\n" +
	"\r\n" +
	"[debug]\r\n" +
	"port=com1"

func parse(t *testing.T, s string) *File {
	t.Helper()
	f, err := Parse("boot.ini", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRead(t *testing.T) {
	f := parse(t, standby)
	if string(f.Bytes()) != standby {
		t.Error("an unedited file does not come back byte for byte")
	}
	if n, ok := f.Timeout(); !ok || n != 30 {
		t.Errorf("timeout %d %v", n, ok)
	}
	if d := f.Default(); d != `multi(0)disk(0)rdisk(0)partition(1)\WINNT` {
		t.Errorf("default %q", d)
	}
	es := f.Entries()
	if len(es) != 3 || es[1].Label != "FS1 - Windows 2000 Server" || es[1].Options != "/fastdetect /sos" || es[1].Line != 9 || es[2].Path != `C:\CMDCONS\BOOTSECT.DAT` {
		t.Errorf("entries %+v", es)
	}
}

func TestEdits(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(f *File) error
		want string
	}{
		{"switch default", func(f *File) error { return f.SetDefault(`MULTI(0)disk(0)rdisk(0)partition(2)\WINNT`) },
			strings.Replace(standby, `default=multi(0)disk(0)rdisk(0)partition(1)\WINNT`, `default=multi(0)disk(0)rdisk(0)partition(2)\WINNT`, 1)},
		{"timeout", func(f *File) error { f.SetTimeout(5); return nil }, strings.Replace(standby, "Timeout = 30", "Timeout = 5", 1)},
		{"same default", func(f *File) error { return f.SetDefault(`multi(0)disk(0)rdisk(0)partition(1)\WINNT`) }, standby},
		{"relabel", func(f *File) error {
			return f.SetEntry(`multi(0)disk(0)rdisk(0)partition(2)\WINNT`, "FS1 (replica)", "/fastdetect")
		}, strings.Replace(standby, `partition(2)\WINNT="FS1 - Windows 2000 Server" /fastdetect /sos`, `partition(2)\WINNT="FS1 (replica)" /fastdetect`, 1)},
		{"add entry", func(f *File) error {
			return f.SetEntry(`multi(0)disk(1)rdisk(0)partition(1)\WINDOWS`, "FS1REAL", "")
		}, strings.Replace(standby, "/cmdcons\r\n", "/cmdcons\r\nmulti(0)disk(1)rdisk(0)partition(1)\\WINDOWS=\"FS1REAL\"\r\n", 1)},
		{"remove entry", func(f *File) error { f.RemoveEntry(`C:\CMDCONS\BOOTSECT.DAT`); return nil },
			strings.Replace(standby, "C:\\CMDCONS\\BOOTSECT.DAT=\"Recovery Console\" /cmdcons\r\n", "", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := parse(t, standby)
			if err := tc.edit(f); err != nil {
				t.Fatal(err)
			}
			if got := string(f.Bytes()); got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestAddToMinimal(t *testing.T) {
	f := parse(t, "[boot loader]\n[operating systems]")
	f.SetTimeout(10)
	if err := f.SetEntry(`multi(0)disk(0)rdisk(0)partition(1)\WINNT`, "W", "/fastdetect"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetDefault(`multi(0)disk(0)rdisk(0)partition(1)\WINNT`); err != nil {
		t.Fatal(err)
	}
	want := "[boot loader]\ntimeout=10\ndefault=multi(0)disk(0)rdisk(0)partition(1)\\WINNT\n[operating systems]\nmulti(0)disk(0)rdisk(0)partition(1)\\WINNT=\"W\" /fastdetect"
	if got := string(f.Bytes()); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "boot.ini: there is no [boot loader] section"},
		{"[boot loader]\r\ntimeout=3\r\n", "boot.ini: there is no [operating systems] section"},
		{"[boot loader]\r\n[operating systems]\r\nC:\\ Windows\r\n", `boot.ini:3: the entry "C:\\ Windows" has no =`},
		{"[boot loader\r\n", `boot.ini:1: the section header "[boot loader" has no closing ]`},
		{"\xff\xfe[\x00b\x00", "boot.ini:1: the file holds NUL bytes"},
		{"[boot loader]\n[operating systems]\n=\"x\"\n", `boot.ini:3: the entry "=\"x\"" has no ARC path`},
	} {
		if _, err := Parse("boot.ini", []byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q): %v, want %q", tc.in, err, tc.want)
		}
	}
	f := parse(t, standby)
	if err := f.SetDefault(`multi(0)disk(0)rdisk(0)partition(9)\WINNT`); err == nil || !strings.Contains(err.Error(), `no entry in [operating systems] boots multi(0)disk(0)rdisk(0)partition(9)\WINNT (it has multi(0)`) {
		t.Errorf("default to a missing entry: %v", err)
	}
	if err := f.SetEntry("a=b", "x", ""); err == nil {
		t.Error("an entry path with = was accepted")
	}
	if err := f.SetEntry("default", "x", ""); err == nil || !strings.Contains(err.Error(), `"default" is not a path NTLDR boots`) {
		t.Errorf("an entry path that boots nothing: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(standby))
	files, _ := filepath.Glob("testdata/*.ini")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("[boot loader]\n[operating systems]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse("fuzz", in)
		if err != nil {
			return
		}
		if string(file.Bytes()) != string(in) {
			t.Fatal("an unedited file does not come back byte for byte")
		}
		if es := file.Entries(); len(es) > 0 {
			if err := file.SetDefault(es[0].Path); err != nil {
				t.Fatal(err)
			}
			if _, err := Parse("fuzz", file.Bytes()); err != nil {
				t.Fatalf("an edited file does not parse: %v", err)
			}
		}
	})
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRealWorld reads BOOT.INI files as NT setup and hand edits leave
// them: switches with =, mixed case, a default= line in the wrong
// section, a line of switches alone, CRLF and LF line ends, comments, two
// entries of one ARC path.
func TestRealWorld(t *testing.T) {
	type entry struct{ Path, Label, Options string }
	for _, tc := range []struct {
		file    string
		def     string
		timeout int
		entries []entry
	}{
		{"xp-dual.ini", `multi(0)disk(0)rdisk(0)partition(1)\WINDOWS`, 30, []entry{
			{`multi(0)disk(0)rdisk(0)partition(1)\WINDOWS`, "Microsoft Windows XP Professional", "/noexecute=optin /fastdetect"},
			{`multi(0)disk(0)rdisk(0)partition(2)\WINNT`, "Windows 2000 Server", "/fastdetect /sos /basevideo"},
			{`C:\CMDCONS\BOOTSECT.DAT`, "Microsoft Windows Recovery Console", "/cmdcons"},
		}},
		{"server2003-hand-edited.ini", `MULTI(0)DISK(0)RDISK(0)PARTITION(1)\winnt`, 10, []entry{
			{`multi(0)disk(0)rdisk(0)partition(1)\WINNT`, "FS2 - Windows Server 2003, Enterprise", "/FASTDETECT /NoExecute=OptOut"},
			{`multi(0)disk(0)rdisk(0)partition(2)\WINNT`, "FS1 - Windows Server 2003", "/fastdetect /NoExecute=OptOut /3GB"},
		}},
		{"scsi-lf.ini", `scsi(0)disk(0)rdisk(0)partition(1)\WINNT`, 5, []entry{
			{`scsi(0)disk(0)rdisk(0)partition(1)\WINNT`, "Windows NT Server 4.0", ""},
			{`scsi(0)disk(0)rdisk(0)partition(1)\WINNT`, "Windows NT Server 4.0 [VGA mode]", "/basevideo /sos"},
			{`signature(8b467c12)disk(1)rdisk(0)partition(1)\WINNT`, "Standby copy", "/fastdetect"},
			{`C:\`, "MS-DOS", ""},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in := readTestdata(t, tc.file)
			f, err := Parse(tc.file, in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.Bytes(), in) {
				t.Error("an unedited file does not come back byte for byte")
			}
			if d := f.Default(); d != tc.def {
				t.Errorf("default %q, want %q", d, tc.def)
			}
			if n, ok := f.Timeout(); !ok || n != tc.timeout {
				t.Errorf("timeout %d %v, want %d", n, ok, tc.timeout)
			}
			var got []entry
			for _, e := range f.Entries() {
				got = append(got, entry{e.Path, e.Label, e.Options})
			}
			if diff := cmp.Diff(tc.entries, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			// Switching to the current default, named in another case,
			// changes nothing.
			if err := f.SetDefault(strings.ToLower(tc.def)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.Bytes(), in) {
				t.Errorf("a switch to the current default changed the file:\n%q", f.Bytes())
			}
		})
	}
}

// TestNotEntries: key=value lines of [operating systems] that name no
// bootable path are never offered as entries and stay byte for byte
// through edits.
func TestNotEntries(t *testing.T) {
	in := readTestdata(t, "server2003-hand-edited.ini")
	f, err := Parse("boot.ini", in)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := f.Entry("default"); ok {
		t.Errorf("the stray default= line is offered as an entry: %+v", e)
	}
	if err := f.SetDefault(`multi(0)disk(0)rdisk(0)partition(2)\winnt`); err != nil {
		t.Fatal(err)
	}
	f.RemoveEntry(`MULTI(0)disk(0)rdisk(0)partition(1)\WINNT`)
	want := strings.Replace(string(in), `Default=MULTI(0)DISK(0)RDISK(0)PARTITION(1)\winnt`, `Default=multi(0)disk(0)rdisk(0)partition(2)\WINNT`, 1)
	want = strings.Replace(want, "multi(0)disk(0)rdisk(0)partition(1)\\WINNT=\"FS2 - Windows Server 2003, Enterprise\" /FASTDETECT /NoExecute=OptOut\r\n", "", 1)
	if got := string(f.Bytes()); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestSetEntryValue: writing back an entry's Value undoes SetEntry byte
// for byte, odd spacing included.
func TestSetEntryValue(t *testing.T) {
	in := readTestdata(t, "server2003-hand-edited.ini")
	f, err := Parse("boot.ini", in)
	if err != nil {
		t.Fatal(err)
	}
	path := `multi(0)disk(0)rdisk(0)partition(2)\WINNT`
	before, _ := f.Entry(path)
	if err := f.SetEntry(path, "Source", "/fastdetect"); err != nil {
		t.Fatal(err)
	}
	if e, _ := f.Entry(path); e.Value != `"Source" /fastdetect` {
		t.Errorf("after SetEntry: %q", e.Value)
	}
	if err := f.SetEntryValue(path, before.Value); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Bytes(), in) {
		t.Errorf("got\n%q\nwant\n%q", f.Bytes(), in)
	}
}
