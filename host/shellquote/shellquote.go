package shellquote

import (
	"fmt"
	"strings"
)

// Join quotes each word for a POSIX shell and joins them with spaces. A
// word made only of characters no shell treats specially stays as it is;
// any other is put in single quotes, inside which a shell expands nothing,
// a single quote itself being written as quote, backslash, quote, quote
// (close, escaped quote, reopen). It fails for a word holding a NUL byte,
// which no argv can carry.
func Join(words ...string) (string, error) {
	var b strings.Builder
	for i, w := range words {
		if strings.IndexByte(w, 0) >= 0 {
			return "", fmt.Errorf("word %d (%q) holds a NUL byte, which a command's arguments cannot carry", i, w)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		if plain(w) {
			b.WriteString(w)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(w, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String(), nil
}

// plain says whether w needs no quotes. '=' is left out: an unquoted NAME=x
// as the first word would be taken for an assignment; '~' and '#' are left
// out as they mean something at the start of a word.
func plain(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("_-+.,/:@%", c) >= 0:
		default:
			return false
		}
	}
	return true
}
