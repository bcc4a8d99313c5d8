package regf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

var hives = []string{"minimal", "special", "rlenvalue_test_hive", "large"}

var now = time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)

func readHive(t testing.TB, name string) ([]byte, *Hive) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	h, err := Read(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b, h
}

// dump renders every field of a hive's tree, subkeys in name order, for
// comparisons (cmp is too slow on a large tree).
func dump(h *Hive) string {
	var b strings.Builder
	fmt.Fprintf(&b, "minor %d modified %s\n", h.Minor, h.Modified)
	var key func(k *Key, depth int)
	key = func(k *Key, depth int) {
		ind := strings.Repeat(" ", depth)
		fmt.Fprintf(&b, "%s[%q] class % x modified %s flags %#x access %#x spare %#x security % x\n",
			ind, k.Name, k.Class, k.Modified, k.Flags, k.access, k.spare, k.Security)
		for _, v := range k.Values {
			fmt.Fprintf(&b, "%s %q type %d data % x\n", ind, v.Name, v.Type, v.Data)
		}
		subkeys := slices.Clone(k.Subkeys)
		slices.SortFunc(subkeys, func(a, b *Key) int { return strings.Compare(a.Name, b.Name) })
		for _, s := range subkeys {
			if s.parent != k {
				fmt.Fprintf(&b, "%s wrong parent of %q\n", ind, s.Name)
			}
			key(s, depth+1)
		}
	}
	key(h.Root, 0)
	return b.String()
}

// TestReencode reads Windows-made hives, writes them anew and reads them
// back: the same tree, key for key.
func TestReencode(t *testing.T) {
	for _, name := range hives {
		t.Run(name, func(t *testing.T) {
			_, h := readHive(t, name)
			again, err := Read(h.Encode())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(dump(h), dump(again)); diff != "" {
				t.Errorf("re-encoded hive differs (-read +re-read):\n%s", diff)
			}
		})
	}
}

func TestReadContent(t *testing.T) {
	_, h := readHive(t, "special")
	var names []string
	for _, k := range h.Root.Subkeys {
		names = append(names, k.Name)
	}
	if want := []string{"abcd_äöüß", "weird™", "zero\x00key"}; !cmp.Equal(names, want) {
		t.Errorf("subkeys %q, want %q", names, want)
	}
	if v := h.Root.Lookup([]string{"WEIRD™"}).Value("symbols $£₤₧€"); v == nil || v.Type != 4 || !bytes.Equal(v.Data, []byte{0, 0, 0, 0}) {
		t.Errorf("value %+v", v)
	}
	_, m := readHive(t, "minimal")
	if m.Root.Name != "$$$PROTO.HIV" || m.Minor != 5 || len(m.Root.Security) == 0 || m.Root.Flags != FlagHiveEntry|FlagNoDelete {
		t.Errorf("minimal hive root %+v", m.Root)
	}
}

func hivexExport(t *testing.T, path string) string {
	t.Helper()
	exe := testenv.Command(t, "hivexregedit", "libwin-hivex-perl")
	out, err := exec.Command(exe, "--export", path, `\`).Output()
	if err != nil {
		t.Fatalf("hivexregedit --export %s: %v", path, err)
	}
	return string(out)
}

// TestHivexReadsEncoded checks hives this package writes with hivex, an
// independent implementation: what it exports from a re-encoded hive is
// what it exports from the original.
func TestHivexReadsEncoded(t *testing.T) {
	dir := t.TempDir()
	for _, name := range hives {
		t.Run(name, func(t *testing.T) {
			_, h := readHive(t, name)
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, h.Encode(), 0o644); err != nil {
				t.Fatal(err)
			}
			want := hivexExport(t, filepath.Join("testdata", name))
			if got := hivexExport(t, path); got != want {
				t.Errorf("hivex exports the re-encoded hive differently:\n%s", cmp.Diff(want, got))
			}
		})
	}
}

// TestNewHive builds a hive from nothing with every shape the writer
// lays out (big data, long subkey lists, names outside Latin-1) and reads
// it with hivex's tools.
func TestNewHive(t *testing.T) {
	h := New("ROOT", now)
	vendor, err := h.Root.AddSubkey("Vendor", now)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 3000)
	must(t, vendor.SetValue("Big", 3, big, now))
	must(t, vendor.SetValue("Small", 4, []byte{1, 2, 3, 4}, now))
	must(t, vendor.SetValue("", 1, []byte{'x', 0, 0, 0}, now))
	must(t, vendor.SetValue("Empty", 0, nil, now))
	many, err := vendor.AddSubkey("Many", now)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1500; i++ {
		if _, err := many.AddSubkey(fmt.Sprintf("k%04d", 1499-i), now); err != nil {
			t.Fatal(err)
		}
	}
	uni, err := vendor.AddSubkey("日本", now)
	if err != nil {
		t.Fatal(err)
	}
	must(t, uni.SetValue("名前", 1, []byte{0x41, 0, 0, 0}, now))
	h.Root.Class = []byte{'c', 0}

	b := h.Encode()
	again, err := Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dump(h), dump(again)); diff != "" {
		t.Errorf("read back differs:\n%s", diff)
	}

	path := filepath.Join(t.TempDir(), "new.hive")
	must(t, os.WriteFile(path, b, 0o644))
	hivexget := testenv.Command(t, "hivexget", "libhivex-bin")
	out, err := exec.Command(hivexget, path, `\Vendor`, "Small").Output()
	if err != nil || strings.TrimSpace(string(out)) != "67305985" {
		t.Errorf("hivexget Small: %q, %v", out, err)
	}
	hivexsh := testenv.Command(t, "hivexsh", "libhivex-bin")
	cmd := exec.Command(hivexsh, path)
	cmd.Stdin = strings.NewReader("cd \\Vendor\\Many\nls\n")
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("hivexsh: %v", err)
	}
	if lines := strings.Fields(string(out)); len(lines) != 1500 || lines[0] != "k0000" || lines[1499] != "k1499" {
		t.Errorf("hivexsh lists %d subkeys of Many", len(lines))
	}
	export := hivexExport(t, path)
	if !strings.Contains(export, `"Big"=hex(3):30,31,32`) || !strings.Contains(export, `[\Vendor\日本]`) {
		t.Errorf("hivexregedit export lacks values:\n%.2000s", export)
	}
}

// TestReadHivexMerge lets hivex write a hive and reads the result.
func TestReadHivexMerge(t *testing.T) {
	exe := testenv.Command(t, "hivexregedit", "libwin-hivex-perl")
	path := filepath.Join(t.TempDir(), "hive")
	must(t, os.WriteFile(path, New("ROOT", now).Encode(), 0o644))
	reg := "Windows Registry Editor Version 5.00\n\n[\\A]\n\"s\"=\"text\"\n\"d\"=dword:0000002a\n\n[\\A\\B]\n@=hex(b):01,00,00,00,00,00,00,00\n"
	cmd := exec.Command(exe, "--merge", path)
	cmd.Stdin = strings.NewReader(reg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hivexregedit --merge: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	must(t, err)
	h, err := Read(b)
	must(t, err)
	a := h.Root.Lookup([]string{"A"})
	if a == nil || a.Value("d") == nil || !bytes.Equal(a.Value("d").Data, []byte{42, 0, 0, 0}) || !bytes.Equal(a.Value("s").Data, []byte("t\x00e\x00x\x00t\x00\x00\x00")) {
		t.Fatalf("merged key A: %+v", a)
	}
	if v := h.Root.Lookup([]string{"a", "b"}).Value(""); v == nil || v.Type != 11 {
		t.Errorf("merged default value of A\\B: %+v", v)
	}
}

func TestEdit(t *testing.T) {
	h := New("ROOT", now)
	a, _ := h.Root.AddSubkey("A", now)
	if again, _ := h.Root.AddSubkey("a", now); again != a {
		t.Error("AddSubkey of an existing name (other case) made a new key")
	}
	if !bytes.Equal(a.Security, h.Root.Security) || a.parent != h.Root {
		t.Error("a new key does not inherit its parent's security")
	}
	must(t, a.SetValue("V", 1, []byte{1, 0}, now))
	must(t, a.SetValue("v", 4, []byte{1, 0, 0, 0}, now))
	if len(a.Values) != 1 || a.Values[0].Type != 4 || a.Values[0].Name != "V" {
		t.Errorf("values %+v", a.Values)
	}
	if !a.DeleteValue("V", now) || a.DeleteValue("V", now) {
		t.Error("DeleteValue")
	}
	if !h.Root.DeleteSubkey("a", now) || h.Root.Lookup([]string{"A"}) != nil {
		t.Error("DeleteSubkey")
	}
	for _, bad := range []string{"", `a\b`, strings.Repeat("x", 256)} {
		if _, err := h.Root.AddSubkey(bad, now); err == nil {
			t.Errorf("AddSubkey(%q) succeeded", bad)
		}
	}
}

func TestBadInput(t *testing.T) {
	minimal, _ := readHive(t, "minimal")
	corrupt := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(minimal)) }
	reseal := func(b []byte) []byte { le.PutUint32(b[508:], checksum(b[:508])); return b }
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, `does not start with the "regf" signature`},
		{"text", []byte("[boot loader]\r\ntimeout=30\r\n"), `does not start with the "regf" signature`},
		{"short", minimal[:100], "too short for a hive"},
		{"checksum", corrupt(func(b []byte) []byte { b[100] ^= 1; return b }), "base block checksum"},
		{"truncated", minimal[:6000], "it is truncated"},
		{"log file", corrupt(func(b []byte) []byte { le.PutUint32(b[28:], 1); return reseal(b) }), "transaction log"},
		{"version 2", corrupt(func(b []byte) []byte { le.PutUint32(b[20:], 2); return reseal(b) }), "format version 2.5"},
		{"root outside", corrupt(func(b []byte) []byte { le.PutUint32(b[36:], 1<<20); return reseal(b) }), "outside the hive"},
		{"root not a key", corrupt(func(b []byte) []byte { le.PutUint32(b[36:], 0x80); return reseal(b) }), "is not a key node"},
		{"no bin", corrupt(func(b []byte) []byte { b[4096] = 'x'; return b }), `no "hbin" signature`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.in)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a FormatError containing %q", err, tc.want)
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	for _, name := range hives[:3] {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := Read(in)
		if err != nil {
			return
		}
		again, err := Read(h.Encode())
		if err != nil {
			t.Fatalf("reading an encoded hive: %v", err)
		}
		if diff := cmp.Diff(dump(h), dump(again)); diff != "" {
			t.Fatalf("re-encoded hive differs:\n%s", diff)
		}
	})
}

func BenchmarkRead(b *testing.B) {
	data, _ := readHive(b, "large")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Read(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	data, h := readHive(b, "large")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		h.Encode()
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestFiletimeRoundTrip: every FILETIME a hive holds is written back as
// read, those before 1970 and past 2262 included.
func TestFiletimeRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		ft   uint64
	}{
		{"none", 0},
		{"first tick", 1},
		{"1969", 116444736000000000 - 1},
		{"unix epoch", 116444736000000000},
		{"2014", 130338891907656250},
		{"2976", 434035841028460038},
		{"largest", ^uint64(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := toFiletime(filetime(tc.ft)); got != tc.ft {
				t.Errorf("toFiletime(filetime(%d)) = %d (read as %s)", tc.ft, got, filetime(tc.ft))
			}
		})
	}
}
