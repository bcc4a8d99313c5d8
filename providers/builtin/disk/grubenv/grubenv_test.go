package grubenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/testenv"
)

func editenv(t *testing.T, args ...string) string {
	t.Helper()
	exe := testenv.Command(t, "grub-editenv", "grub-common")
	out, err := exec.Command(exe, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("grub-editenv %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestSameAsGrubEditenv makes the same changes with grub-editenv and with
// this package: the blocks must be equal byte for byte, each reading the
// other's.
func TestSameAsGrubEditenv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "grubenv")
	editenv(t, file, "create")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Parse("grubenv", b)
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Bytes()) != string(b) {
		t.Fatal("a block grub-editenv created does not come back byte for byte")
	}
	steps := [][2]string{
		{"saved_entry", "Windows Server (on /dev/sda1)"},
		{"next_entry", "2"},
		{"odd", "back\\slash and\nnewline\\"},
		{"saved_entry", "gnulinux-advanced-1234"},
	}
	for _, s := range steps {
		editenv(t, file, "set", s[0]+"="+s[1])
		if err := e.Set(s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	editenv(t, file, "unset", "next_entry")
	e.Unset("next_entry")
	b, _ = os.ReadFile(file)
	if string(e.Bytes()) != string(b) {
		t.Fatalf("blocks differ:\ngrub-editenv %q\nours         %q", b, e.Bytes())
	}
	back, err := Parse("grubenv", b)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := back.Get("odd"); v != "back\\slash and\nnewline\\" {
		t.Errorf("odd = %q", v)
	}
	// grub-editenv reads what we write.
	e.Set("next_entry", "1")
	if err := os.WriteFile(file, e.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if list := editenv(t, file, "list"); !strings.Contains(list, "saved_entry=gnulinux-advanced-1234\n") || !strings.Contains(list, "next_entry=1\n") {
		t.Errorf("grub-editenv list:\n%s", list)
	}
}

func TestErrors(t *testing.T) {
	good := New("g").Bytes()
	pad := func(s string) []byte { return []byte(s + strings.Repeat("#", Size-len(s))) }
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{good[:1000], "grubenv: the file is 1000 bytes; a GRUB environment block is exactly 1024"},
		{append(good, '#'), "the file is 1025 bytes"},
		{pad("# Not GRUB\n"), `grubenv:1: the file does not start with "# GRUB Environment Block"`},
		{pad(header + "a=1\nnovalue\n"), `grubenv:3: "novalue" is not a name=value line`},
		{pad(header + "a=1\n##x#"), "grubenv:3: the padding after the variables holds something other than '#'"},
		{[]byte(header + strings.Repeat("x", Size-len(header))), "grubenv:2: the last variable is not ended by a newline"},
	} {
		if _, err := Parse("grubenv", tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse: %v, want %q", err, tc.want)
		}
	}
	e := New("grubenv")
	if err := e.Set("big", strings.Repeat("x", 1000)); err == nil || !strings.Contains(err.Error(), "more than the 1024-byte block holds") {
		t.Errorf("an oversized value: %v", err)
	}
	if _, ok := e.Get("big"); ok {
		t.Error("a refused value was kept")
	}
	if err := e.Set("a=b", "x"); err == nil {
		t.Error("a name with = was accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(New("g").Bytes())
	e := New("g")
	e.Set("saved_entry", "x\\y\nz")
	f.Add(e.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		e, err := Parse("fuzz", in)
		if err != nil {
			return
		}
		back, err := Parse("fuzz", e.Bytes())
		if err != nil {
			t.Fatalf("re-reading a written block: %v", err)
		}
		if string(back.Bytes()) != string(e.Bytes()) {
			t.Fatal("writing is not stable")
		}
	})
}
