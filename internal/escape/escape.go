package escape

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Name is name with everything a terminal would act on, every byte that
// is not UTF-8 and the backslash escaped, and, when Unicode normalization
// to NFC would change it, the characters that would change it: the result
// is NFC-normal UTF-8 that strconv.Unquote reads back as name (once its
// double quotes are escaped).
func Name(name string) string {
	if plain(name) {
		return name
	}
	s := escape(name, true, false)
	if !norm.NFC.IsNormalString(s) {
		s = escape(name, true, true)
	}
	return s
}

// Text is text with everything a terminal would act on but newlines, and
// every byte that is not UTF-8, escaped: its lines stay lines.
func Text(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if !plain(l) {
			lines[i] = escape(l, false, false)
		}
	}
	return strings.Join(lines, "\n")
}

// plain says whether s is printable ASCII without a backslash: nothing to
// escape, the common case.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '\\' {
			return false
		}
	}
	return true
}

func escape(s string, backslash, composing bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' && backslash:
			b.WriteString(`\\`)
		case r < utf8.RuneSelf && strconv.IsPrint(r):
			b.WriteByte(byte(r))
		case !strconv.IsPrint(r) || composing && composes(r):
			b.WriteString(escapeRune(r))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// composes says whether r may change under NFC: it combines with what
// comes before it, or is replaced by another character.
func composes(r rune) bool {
	s := string(r)
	return !norm.NFC.PropertiesString(s).BoundaryBefore() || norm.NFC.String(s) != s
}

func escapeRune(r rune) string {
	switch r {
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\v':
		return `\v`
	}
	switch {
	case r < utf8.RuneSelf:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}
