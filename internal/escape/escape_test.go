package escape

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestName(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "reports/q3.txt", "reports/q3.txt"},
		{"space and accents (NFC)", "café menu.txt", "café menu.txt"},
		{"erase line", "evil\x1b[2Kname", `evil\x1b[2Kname`},
		{"newline", "two\nlines", `two\nlines`},
		{"not UTF-8", "bad\xff\xfe.txt", `bad\xff\xfe.txt`},
		{"backslash", `a\x41`, `a\\x41`},
		{"DEL and C1", "a\x7fb\u009bc", `a\x7fb\u009bc`},
		{"right-to-left override", "invoice\u202etxt.exe", `invoice\u202etxt.exe`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"NFD", "cafe\u0301.txt", `cafe\u0301.txt`},
		{"NFD beside NFC", "é-e\u0301", `é-e\u0301`},
		{"NFC with a mark that has no precomposed form", "q\u0301", "q\u0301"},
		{"singleton NFC replaces", "\u212bngstrom", `\u212bngstrom`},
		{"Hangul jamo that compose", "\u1100\u1161", "\u1100" + `\u1161`},
		{"emoji", "🙂.txt", "🙂.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Name(tc.in)
			if got != tc.want {
				t.Errorf("Name(%q) = %q, want %q", tc.in, got, tc.want)
			}
			checkName(t, tc.in, got)
		})
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"lines stay", "1 to add\n+ fs1:/a\n- fs1:/b", "1 to add\n+ fs1:/a\n- fs1:/b"},
		{"escaped names stay", "+ " + Name("e\x1b[2K\\x"), `+ e\x1b[2K\\x`},
		{"controls within a line", "a\x1b[31mred\r", `a\x1b[31mred\r`},
		{"not UTF-8", "\xff", `\xff`},
		{"NFD left alone", "cafe\u0301", "cafe\u0301"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Text(tc.in); got != tc.want {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// checkName fails unless out, the escape of in, is valid NFC-normal
// UTF-8 with nothing a terminal acts on, and reads back as in.
func checkName(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) || !norm.NFC.IsNormalString(out) {
		t.Errorf("Name(%q) = %q: not NFC-normal UTF-8", in, out)
	}
	for _, r := range out {
		if !strconv.IsPrint(r) {
			t.Errorf("Name(%q) = %q holds %U", in, out, r)
		}
	}
	back, err := strconv.Unquote(`"` + strings.ReplaceAll(out, `"`, `\"`) + `"`)
	if err != nil || back != in {
		t.Errorf("Name(%q) = %q reads back as %q (%v)", in, out, back, err)
	}
}

func FuzzName(f *testing.F) {
	for _, s := range []string{"a", "bad\xff", "cafe\u0301", "\x1b[2K", `\`, "\u1100\u1161\u11a8", "\u212b", "a\u0323\u0302"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkName(t, s, Name(s))
	})
}
