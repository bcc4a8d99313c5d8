package regtext

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// dump renders a document for golden files.
func dump(doc *Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "header: %s\nencoding: %s\n", doc.Header, doc.Encoding)
	for _, k := range doc.Keys {
		op := "set"
		if k.Delete {
			op = "delete"
		}
		fmt.Fprintf(&b, "line %d: %s key %q\n", k.Line, op, k.Path)
		for _, v := range k.Values {
			if v.Delete {
				fmt.Fprintf(&b, "  line %d: delete value %q\n", v.Line, v.Name)
				continue
			}
			fmt.Fprintf(&b, "  line %d: value %q type %d data % x\n", v.Line, v.Name, v.Type, v.Data)
		}
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.reg")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Decode(file, in)
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(file, ".reg") + ".golden"
			got := dump(doc)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("decoded document differs from %s (-want +got):\n%s", golden, diff)
			}
			roundTrip(t, doc)
		})
	}
}

// TestWindowsBytes checks that a file written as Windows writes it comes
// back byte for byte.
func TestWindowsBytes(t *testing.T) {
	for _, file := range []string{"testdata/windows5.reg", "testdata/regedit4.reg"} {
		in, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Decode(file, in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Encode(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(in, out) {
			t.Errorf("%s: encoding gives different bytes:\n%q\n%q", file, in, out)
		}
	}
}

var ignoreLines = cmpopts.IgnoreFields(Key{}, "Line")

// roundTrip checks that doc, encoded in every header and encoding that
// can hold it, decodes back to itself.
func roundTrip(t *testing.T, doc *Document) {
	t.Helper()
	for _, h := range []Header{Version5, Regedit4} {
		for _, enc := range []Encoding{UTF16LE, UTF8, ANSI} {
			d := *doc
			d.Header, d.Encoding = h, enc
			out, err := Encode(&d)
			if err != nil {
				if h == Version5 && enc != ANSI || h == Regedit4 && enc == UTF8 {
					t.Errorf("%s in %s: %v", h, enc, err)
				}
				continue
			}
			back, err := Decode("round-trip", out)
			if err != nil {
				t.Fatalf("%s in %s: decoding what was encoded: %v\n%s", h, enc, err, out)
			}
			if diff := cmp.Diff(&d, back, ignoreLines, cmpopts.IgnoreFields(Value{}, "Line"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s in %s: round trip differs (-want +got):\n%s", h, enc, diff)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	v5 := "Windows Registry Editor Version 5.00\n\n"
	utf16be := []byte{0xFE, 0xFF, 0, 'W'}
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", `f.reg:1: the first line is "", not a .reg header`},
		{"no header", "[HKLM\\x]\n", `f.reg:1: the first line is "[HKLM\\x]", not a .reg header`},
		{"utf16 big endian", string(utf16be), "f.reg: the file is UTF-16 big-endian"},
		{"utf16 without bom", "W\x00i\x00", "f.reg:1: the file holds NUL bytes: it looks like UTF-16 without a byte-order mark"},
		{"odd utf16", "\xff\xfeW", "f.reg: the file starts with a UTF-16LE byte-order mark but has an odd number of bytes"},
		{"latin1 in version 5", v5 + "[k]\n\"a\"=\"caf\xe9\"\n", "f.reg:4: the file is not valid UTF-8 (byte 50)"},
		{"value before key", v5 + "\"a\"=\"b\"\n", "f.reg:3: a value comes before any [KEY] line"},
		{"value below deletion", v5 + "[-k]\n\"a\"=\"b\"\n", "f.reg:4: a value below [-k]"},
		{"unclosed key", v5 + "[k\n", `f.reg:3: the key line "[k" has no closing ]`},
		{"text after key", v5 + "[k] x\n", `f.reg:3: unexpected "x" after the key's closing ]`},
		{"empty key", v5 + "[]\n", "f.reg:3: the key line names no key"},
		{"junk", v5 + "[k]\nname=1\n", `f.reg:4: unexpected "name=1"`},
		{"no equals", v5 + "[k]\n\"a\" \"b\"\n", `f.reg:4: expected = after the value name, found "\"b\""`},
		{"unclosed name", v5 + "[k]\n\"a=1\n", `f.reg:4: the string "a=1 has no closing quote`},
		{"after string", v5 + "[k]\n\"a\"=\"b\" c\n", `f.reg:4: unexpected "c" after the string's closing quote`},
		{"bad dword", v5 + "[k]\n\"a\"=dword:123456789\n", "f.reg:4: dword:123456789 is not a 32-bit number"},
		{"empty dword", v5 + "[k]\n\"a\"=dword:\n", "f.reg:4: dword: is not a 32-bit number"},
		{"bad hex type", v5 + "[k]\n\"a\"=hex(z):00\n", `f.reg:4: "hex(z)" is not a hex value type`},
		{"hex without colon", v5 + "[k]\n\"a\"=hex\n", `f.reg:4: hex data "hex" has no colon`},
		{"bad byte", v5 + "[k]\n\"a\"=hex:00,\\\n  0g\n", `f.reg:4: byte 2 of the hex data, "0g", is not a byte`},
		{"empty byte", v5 + "[k]\n\"a\"=hex:00,,01\n", `f.reg:4: byte 2 of the hex data, "", is not a byte`},
		{"continuation at end", v5 + "[k]\n\"a\"=hex:00,\\", "f.reg:4: the value's last line ends with \\ but the file ends there"},
		{"unknown data", v5 + "[k]\n\"a\"=qword:1\n", `f.reg:4: unknown value data "qword:1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("f.reg", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  Document
		want string
	}{
		{"version 5 in ANSI", Document{Header: Version5, Encoding: ANSI}, "cannot be written in ANSI"},
		{"regedit4 beyond cp1252", Document{Header: Regedit4, Encoding: ANSI, Keys: []Key{{Path: "k", Values: []Value{{Name: "a", Type: TypeString, Data: String("日本")}}}}},
			"has no Windows-1252 byte"},
		{"regedit4 expand beyond cp1252", Document{Header: Regedit4, Encoding: UTF8, Keys: []Key{{Path: "k", Values: []Value{{Name: "a", Type: TypeExpandString, Data: String("日本")}}}}},
			`key k: value "a": its string data has characters outside Windows-1252`},
		{"line break in name", Document{Keys: []Key{{Path: "k", Values: []Value{{Name: "a\nb", Type: TypeDWord, Data: DWord(1)}}}}}, "has a line break"},
		{"key looks deleted", Document{Keys: []Key{{Path: "-k"}}}, `the key path "-k" cannot be written`},
		{"NUL in a name in UTF-8", Document{Encoding: UTF8, Keys: []Key{{Path: "k", Values: []Value{{Name: "a\x00b", Type: TypeDWord, Data: DWord(1)}}}}},
			`key k: the value name "a\x00b" holds a NUL character, which a UTF-8 .reg file cannot hold (a NUL byte reads as UTF-16); write the file as UTF-16LE`},
		{"NUL in a key in ANSI", Document{Header: Regedit4, Encoding: ANSI, Keys: []Key{{Path: "k\x00"}}},
			`the key path "k\x00" holds a NUL character, which a ANSI (Windows-1252) .reg file cannot hold`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Encode(&tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestStringsAsHex(t *testing.T) {
	// Strings that a quoted form would change are written as hex(1).
	for _, data := range [][]byte{nil, {0x41, 0}, {0x41, 0, 0x42, 0}, String("a\r\nb"), {0x41, 0, 0, 0, 0x42, 0, 0, 0}, {0x00, 0xD8, 0, 0}} {
		doc := &Document{Encoding: UTF8, Keys: []Key{{Path: "k", Values: []Value{{Name: "s", Type: TypeString, Data: data}}}}}
		out, err := Encode(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), `"s"=hex(1):`) {
			t.Errorf("% x written as %q", data, out)
		}
		roundTrip(t, doc)
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.reg")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("REGEDIT4\n[k]\n\"a\"=hex(7):e9,00,00\n"))
	f.Add([]byte("REGEDIT4\r\n\r\n[k]\r\n\"C:\\Temp\"=\"D:\\x\\\\y\"\r\n\x1a"))
	f.Fuzz(func(t *testing.T, in []byte) {
		doc, err := Decode("fuzz.reg", in)
		if err != nil {
			return
		}
		out, err := Encode(doc)
		if err != nil {
			t.Fatalf("encoding a decoded document: %v", err)
		}
		back, err := Decode("fuzz.reg", out)
		if err != nil {
			t.Fatalf("decoding what was encoded: %v\n%q", err, out)
		}
		if diff := cmp.Diff(doc, back, ignoreLines, cmpopts.IgnoreFields(Value{}, "Line"), cmpopts.IgnoreFields(Document{}, "Warnings"), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip differs (-want +got):\n%s", diff)
		}
		again, err := Encode(back)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("encoding is not stable: %v", err)
		}
	})
}

func TestValueString(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{Value{Name: "Port", Type: TypeDWord, Data: DWord(80)}, `"Port"=dword:00000050`},
		{Value{Type: TypeString, Data: String(`a"b`)}, `@="a\"b"`},
		{Value{Name: "x", Delete: true}, `"x"=-`},
		{Value{Name: "b", Type: TypeBinary, Data: make([]byte, 40)}, `"b"=hex:` + strings.Repeat("00,", 39) + "00"},
		{Value{Name: "q", Type: TypeQWord, Data: []byte{1, 0, 0, 0, 0, 0, 0, 0}}, `"q"=hex(b):01,00,00,00,00,00,00,00`},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
	}
}

// benchDoc is a capture of 2,000 keys of 10 values each.
func benchDoc() *Document {
	doc := &Document{Header: Version5, Encoding: UTF16LE}
	for i := 0; i < 2000; i++ {
		k := Key{Path: fmt.Sprintf(`HKEY_LOCAL_MACHINE\SOFTWARE\Vendor\Product\Key%04d`, i)}
		for j := 0; j < 5; j++ {
			k.Values = append(k.Values, Value{Name: fmt.Sprintf("s%d", j), Type: TypeString, Data: String(`C:\Program Files\Vendor`)})
			k.Values = append(k.Values, Value{Name: fmt.Sprintf("b%d", j), Type: TypeBinary, Data: make([]byte, 40)})
		}
		doc.Keys = append(doc.Keys, k)
	}
	return doc
}

func BenchmarkDecode(b *testing.B) {
	in, err := Encode(benchDoc())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode("bench.reg", in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	doc := benchDoc()
	out, _ := Encode(doc)
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if _, err := Encode(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCtrlZ: a Ctrl-Z at the very end, as DOS-era editors write it, is
// read past, in every encoding.
func TestCtrlZ(t *testing.T) {
	text := "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n\"Port\"=dword:00000050\r\n\r\n"
	want, err := Decode("f.reg", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	utf16le := func(s string) []byte {
		b := []byte{0xFF, 0xFE}
		for _, c := range s {
			b = append(b, byte(c), 0)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		in   []byte
		enc  Encoding
	}{
		{"ANSI", []byte(text + "\x1a"), ANSI},
		{"UTF-8", []byte(strings.ReplaceAll(text, "\r\n", "\n") + "\x1a"), UTF8},
		{"UTF-16LE", utf16le(text + "\x1a"), UTF16LE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode("f.reg", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			w := *want
			w.Encoding = tc.enc
			if diff := cmp.Diff(&w, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Only at the end: elsewhere it is a stray byte.
	if _, err := Decode("f.reg", []byte("REGEDIT4\n\x1a\n[k]\n")); err == nil || !strings.Contains(err.Error(), "f.reg:2: unexpected") {
		t.Errorf("a Ctrl-Z before the end: %v", err)
	}
}

// TestUnknownEscape: a backslash that starts no escape is kept, as
// regedit keeps it, with a warning naming the line; \\ and \" escape as
// before.
func TestUnknownEscape(t *testing.T) {
	for _, tc := range []struct {
		name, line, valueName, data string
		warnings                    []string
	}{
		{"path", `"Dir"="C:\Program Files\Vendor"`, "Dir", `C:\Program Files\Vendor`, []string{
			`f.reg:4: "C:\Program Files\Vendor": a backslash that starts no escape (before 'P', 'V') is read as a backslash, as regedit reads it (write \\ for a backslash to say so)`,
		}},
		{"in the name", `"a\nb"="x"`, `a\nb`, "x", []string{`f.reg:4: "a\nb": a backslash that starts no escape (before 'n')`}},
		{"escapes", `"q"="say \"hi\" \\ bye"`, "q", `say "hi" \ bye`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Decode("f.reg", []byte("Windows Registry Editor Version 5.00\n\n[k]\n"+tc.line+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			v := doc.Keys[0].Values[0]
			if s, _ := AsString(v.Data); v.Name != tc.valueName || s != tc.data {
				t.Errorf("read %q=%q, want %q=%q", v.Name, s, tc.valueName, tc.data)
			}
			if len(doc.Warnings) != len(tc.warnings) {
				t.Fatalf("warnings %v, want %d", doc.Warnings, len(tc.warnings))
			}
			for i, w := range doc.Warnings {
				if !strings.HasPrefix(w.String(), tc.warnings[i]) {
					t.Errorf("warning %q, want it to start %q", w, tc.warnings[i])
				}
			}
			// Written back, the backslash is escaped and reads the same
			// without a warning.
			out, err := Encode(doc)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode("f.reg", out)
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Warnings) != 0 || !bytes.Equal(back.Keys[0].Values[0].Data, v.Data) {
				t.Errorf("written back as %q: %v", out, back.Warnings)
			}
		})
	}
}

// TestNULNameRoundTrip: UTF-16LE holds a NUL in a name, which the other
// encodings refuse.
func TestNULNameRoundTrip(t *testing.T) {
	doc := &Document{Encoding: UTF16LE, Keys: []Key{{Path: `k\x00y`, Values: []Value{{Name: "a\x00b", Type: TypeDWord, Data: DWord(1)}}}}}
	out, err := Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode("f.reg", out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(doc, back, ignoreLines, cmpopts.IgnoreFields(Value{}, "Line")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
