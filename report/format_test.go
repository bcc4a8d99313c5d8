package report

import (
	"strings"
	"testing"

	"github.com/drover-dr/drover/internal/escape"
)

// TestPrintable checks printable against escaping each tab-separated part
// of the text, which its shortcut for text with nothing to escape skips.
func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"empty", ""},
		{"plain", "run true on h"},
		{"laid out", "a\tb\nc\t\td\n"},
		{"backslash", `C:\dr\t`},
		{"control", "a\x1b[31mred\r\x7f"},
		{"not ascii", "é \u2028 \xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := strings.Split(tc.text, "\t")
			for i, p := range parts {
				parts[i] = escape.Text(p)
			}
			if got, want := printable(tc.text), strings.Join(parts, "\t"); got != want {
				t.Errorf("printable(%q) = %q, want %q", tc.text, got, want)
			}
		})
	}
}
