package regtext

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// wrapColumn is the column past which hex data continues on the next
// line, as Windows wraps it: lines of at most 80 characters.
const wrapColumn = 76

// Encode writes doc as a .reg file in doc.Header's format and
// doc.Encoding. It fails for a REGEDIT4 document whose text or hex(2) and
// hex(7) data has characters outside Windows-1252, a Version 5 document
// asked for in ANSI, and names that a file cannot hold (a line break; a
// NUL, but in UTF-16LE).
func Encode(doc *Document) ([]byte, error) {
	nl := "\r\n"
	if doc.Encoding == UTF8 {
		nl = "\n"
	}
	if doc.Encoding == ANSI && doc.Header != Regedit4 {
		return nil, fmt.Errorf("a %q file cannot be written in ANSI; use UTF-16LE or UTF-8", doc.Header)
	}
	var b strings.Builder
	b.WriteString(doc.Header.String())
	b.WriteString(nl)
	for _, k := range doc.Keys {
		if strings.ContainsRune(k.Path, '\n') || (!k.Delete && strings.HasPrefix(k.Path, "-")) || strings.TrimSpace(k.Path) == "" {
			return nil, fmt.Errorf("the key path %q cannot be written in a .reg file", k.Path)
		}
		if err := holdsNUL(doc.Encoding, k); err != nil {
			return nil, err
		}
		b.WriteString(nl)
		b.WriteByte('[')
		if k.Delete {
			b.WriteByte('-')
		}
		b.WriteString(k.Path)
		b.WriteByte(']')
		b.WriteString(nl)
		for _, v := range k.Values {
			if err := writeValue(&b, doc.Header, v, nl, wrapColumn); err != nil {
				return nil, fmt.Errorf("key %s: %w", k.Path, err)
			}
		}
	}
	b.WriteString(nl)
	return encodeText(b.String(), doc.Encoding)
}

// holdsNUL refuses a key path or value name with a NUL character in a
// UTF-8 or ANSI file: a NUL byte marks a file as UTF-16, so neither
// Drover nor regedit would read it back. UTF-16LE holds it as any other
// character.
func holdsNUL(enc Encoding, k Key) error {
	if enc == UTF16LE {
		return nil
	}
	if strings.ContainsRune(k.Path, 0) {
		return fmt.Errorf("the key path %q holds a NUL character, which a %s .reg file cannot hold (a NUL byte reads as UTF-16); write the file as UTF-16LE", k.Path, enc)
	}
	for _, v := range k.Values {
		if strings.ContainsRune(v.Name, 0) {
			return fmt.Errorf("key %s: the value name %q holds a NUL character, which a %s .reg file cannot hold (a NUL byte reads as UTF-16); write the file as UTF-16LE", k.Path, v.Name, enc)
		}
	}
	return nil
}

func encodeText(s string, enc Encoding) ([]byte, error) {
	switch enc {
	case UTF8:
		return []byte(s), nil
	case ANSI:
		out := make([]byte, 0, len(s))
		for _, r := range s {
			c, ok := ansiByte(r)
			if !ok {
				return nil, fmt.Errorf("the character %q has no Windows-1252 byte; write the file as UTF-8 or as a Version 5 file", r)
			}
			out = append(out, c)
		}
		return out, nil
	default:
		u := utf16.Encode([]rune(s))
		out := make([]byte, 0, 2+2*len(u))
		out = append(out, bomUTF16LE...)
		for _, c := range u {
			out = binary.LittleEndian.AppendUint16(out, c)
		}
		return out, nil
	}
}

// writeValue writes a value line, wrapping hex data past column wrap (0:
// never).
func writeValue(b *strings.Builder, h Header, v Value, nl string, wrap int) error {
	if strings.ContainsRune(v.Name, '\n') {
		return fmt.Errorf("the value name %q has a line break, which a .reg file cannot hold", v.Name)
	}
	start := b.Len()
	if v.Name == "" {
		b.WriteByte('@')
	} else {
		writeQuoted(b, v.Name)
	}
	b.WriteByte('=')
	if v.Delete {
		b.WriteString("-")
		b.WriteString(nl)
		return nil
	}
	if v.Type == TypeString {
		if s, ok := plainString(v.Data); ok {
			writeQuoted(b, s)
			b.WriteString(nl)
			return nil
		}
	}
	if v.Type == TypeDWord && len(v.Data) == 4 {
		fmt.Fprintf(b, "dword:%08x%s", binary.LittleEndian.Uint32(v.Data), nl)
		return nil
	}
	data := v.Data
	if h == Regedit4 && (v.Type == TypeExpandString || v.Type == TypeMultiString) {
		var ok bool
		if data, ok = narrow(v.Data); !ok {
			name := v.Name
			if name == "" {
				name = "@"
			}
			return fmt.Errorf("value %q: its string data has characters outside Windows-1252, which REGEDIT4 cannot hold; write a Version 5 file", name)
		}
	}
	if v.Type == TypeBinary {
		b.WriteString("hex:")
	} else {
		fmt.Fprintf(b, "hex(%x):", v.Type)
	}
	col := utf8.RuneCountInString(b.String()[start:])
	for i, c := range data {
		const digits = "0123456789abcdef"
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
		if i == len(data)-1 {
			break
		}
		b.WriteByte(',')
		if col += 3; wrap > 0 && col > wrap {
			b.WriteString(`\`)
			b.WriteString(nl)
			b.WriteString("  ")
			col = 2
		}
	}
	b.WriteString(nl)
	return nil
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
}

// String is the value line as a Version 5 file writes it, on one line
// (hex data unwrapped), e.g. "Port"=dword:00000050.
func (v Value) String() string {
	var b strings.Builder
	if err := writeValue(&b, Version5, v, "", 0); err != nil {
		return fmt.Sprintf("%q=<%v>", v.Name, err)
	}
	return b.String()
}
