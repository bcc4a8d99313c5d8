package regtext

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

var (
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
)

// Decode reads the .reg file content b; name is the file's name in errors,
// which are *SyntaxError values.
func Decode(name string, b []byte) (*Document, error) {
	text, enc, err := decodeText(name, b)
	if err != nil {
		return nil, err
	}
	// Editors of the DOS era end a text file with Ctrl-Z, which regedit
	// reads past.
	text = strings.TrimSuffix(text, "\x1a")
	p := &parser{name: name, lines: splitLines(text), doc: &Document{Encoding: enc}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.doc, nil
}

// decodeText turns the file's bytes into text, telling how they were
// encoded.
func decodeText(name string, b []byte) (string, Encoding, error) {
	fail := func(line int, format string, args ...any) (string, Encoding, error) {
		return "", 0, &SyntaxError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case bytes.HasPrefix(b, bomUTF16LE):
		b = b[2:]
		if len(b)%2 != 0 {
			return fail(0, "the file starts with a UTF-16LE byte-order mark but has an odd number of bytes; it is truncated or not UTF-16LE")
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		if !validSurrogates(u) {
			return fail(0, "the file is not valid UTF-16LE (a lone surrogate); save it again as UTF-16LE or UTF-8")
		}
		return string(utf16.Decode(u)), UTF16LE, nil
	case bytes.HasPrefix(b, bomUTF16BE):
		return fail(0, "the file is UTF-16 big-endian, which is not a .reg encoding; save it as UTF-16LE (\"Unicode\") or UTF-8")
	case bytes.HasPrefix(b, bomUTF8):
		b = b[3:]
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return fail(lineAt(b, i), "the file holds NUL bytes: it looks like UTF-16 without a byte-order mark; save it as UTF-16LE with a byte-order mark or as UTF-8")
	}
	regedit4 := bytes.HasPrefix(b, []byte("REGEDIT4"))
	// A REGEDIT4 file of plain ASCII with CRLF line ends is what Windows
	// writes in ANSI; read it so, to write it back the same way.
	ansiLike := regedit4 && bytes.HasPrefix(b, []byte("REGEDIT4\r\n")) && isASCII(b)
	if utf8.Valid(b) && !ansiLike {
		return string(b), UTF8, nil
	}
	if regedit4 {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = ansiRune(c)
		}
		return string(r), ANSI, nil
	}
	bad := len(b)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			bad = i
			break
		}
		i += n
	}
	return fail(lineAt(b, bad), "the file is not valid UTF-8 (byte %d) and has no UTF-16LE byte-order mark; save it as UTF-16LE or UTF-8", bad)
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func lineAt(b []byte, offset int) int { return bytes.Count(b[:offset], []byte{'\n'}) + 1 }

// splitLines splits at LF, dropping the CR of CRLF line ends.
func splitLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

type parser struct {
	name  string
	lines []string
	i     int // index of the next line to read
	doc   *Document
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &SyntaxError{File: p.name, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() error {
	header := strings.TrimSpace(p.lines[0])
	switch header {
	case Version5.String():
		p.doc.Header = Version5
	case Regedit4.String():
		p.doc.Header = Regedit4
	default:
		return p.errorf(1, "the first line is %q, not a .reg header: a .reg file starts with %q or %q",
			clip(header), Version5.String(), Regedit4.String())
	}
	p.i = 1
	var key *Key
	for p.i < len(p.lines) {
		n := p.i + 1
		t := strings.TrimSpace(p.lines[p.i])
		p.i++
		switch {
		case t == "" || t[0] == ';':
		case t[0] == '[':
			k, err := p.key(t, n)
			if err != nil {
				return err
			}
			p.doc.Keys = append(p.doc.Keys, k)
			key = &p.doc.Keys[len(p.doc.Keys)-1]
		case t[0] == '"' || t[0] == '@':
			if key == nil {
				return p.errorf(n, "a value comes before any [KEY] line; put it below the key it belongs to")
			}
			if key.Delete {
				return p.errorf(n, "a value below [-%s], which deletes the key; remove the value or the minus sign", key.Path)
			}
			v, err := p.value(t, n)
			if err != nil {
				return err
			}
			key.Values = append(key.Values, v)
		default:
			return p.errorf(n, "unexpected %q: expected a [KEY] line, a \"name\"=value or @=value line, or a ; comment", clip(t))
		}
	}
	return nil
}

func (p *parser) key(t string, line int) (Key, error) {
	end := strings.LastIndexByte(t, ']')
	if end < 0 {
		return Key{}, p.errorf(line, "the key line %q has no closing ]", clip(t))
	}
	if rest := strings.TrimSpace(t[end+1:]); rest != "" && rest[0] != ';' {
		return Key{}, p.errorf(line, "unexpected %q after the key's closing ]", clip(rest))
	}
	k := Key{Path: t[1:end], Line: line}
	if strings.HasPrefix(k.Path, "-") {
		k.Delete, k.Path = true, k.Path[1:]
	}
	if strings.TrimSpace(k.Path) == "" {
		return Key{}, p.errorf(line, "the key line names no key")
	}
	return k, nil
}

func (p *parser) value(t string, line int) (Value, error) {
	v := Value{Line: line}
	rest := t[1:]
	if t[0] == '"' {
		var err error
		if v.Name, rest, err = p.quoted(t, line); err != nil {
			return v, err
		}
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "=") {
		return v, p.errorf(line, "expected = after the value name, found %q", clip(rest))
	}
	data := strings.TrimSpace(rest[1:])
	lower := strings.ToLower(data)
	switch {
	case data == "-":
		v.Delete = true
	case strings.HasPrefix(data, `"`):
		s, after, err := p.quoted(data, line)
		if err != nil {
			return v, err
		}
		if after = strings.TrimSpace(after); after != "" {
			return v, p.errorf(line, "unexpected %q after the string's closing quote", clip(after))
		}
		v.Type, v.Data = TypeString, String(s)
	case strings.HasPrefix(lower, "dword:"):
		digits := strings.TrimSpace(data[len("dword:"):])
		n, err := strconv.ParseUint(digits, 16, 32)
		if err != nil || digits == "" || digits[0] == '+' || digits[0] == '-' {
			return v, p.errorf(line, "dword:%s is not a 32-bit number in hex (up to 8 hex digits, like dword:0000001e)", clip(digits))
		}
		v.Type, v.Data = TypeDWord, DWord(uint32(n))
	case strings.HasPrefix(lower, "hex"):
		if err := p.hex(&v, data, line); err != nil {
			return v, err
		}
	default:
		return v, p.errorf(line, "unknown value data %q: expected \"string\", dword:, hex:, hex(N): or - to delete", clip(data))
	}
	return v, nil
}

// hex reads hex:, hex(N): data, following \ continuation lines.
func (p *parser) hex(v *Value, data string, line int) error {
	colon := strings.IndexByte(data, ':')
	if colon < 0 {
		return p.errorf(line, "hex data %q has no colon: write hex:01,02 or hex(N):01,02", clip(data))
	}
	kind := strings.ToLower(data[:colon])
	v.Type = TypeBinary
	if kind != "hex" {
		inner, ok := strings.CutPrefix(kind, "hex(")
		inner, ok2 := strings.CutSuffix(inner, ")")
		n, err := strconv.ParseUint(inner, 16, 32)
		if !ok || !ok2 || err != nil || inner == "" || inner[0] == '+' {
			return p.errorf(line, "%q is not a hex value type: write hex: or hex(N): with N the type number in hex, like hex(7):", clip(data[:colon]))
		}
		v.Type = uint32(n)
	}
	body := strings.TrimSpace(data[colon+1:])
	for strings.HasSuffix(body, `\`) {
		if p.i >= len(p.lines) {
			return p.errorf(line, "the value's last line ends with \\ but the file ends there")
		}
		body = strings.TrimSuffix(body, `\`) + strings.TrimSpace(p.lines[p.i])
		p.i++
	}
	if body != "" {
		parts := strings.Split(body, ",")
		if strings.TrimSpace(parts[len(parts)-1]) == "" {
			parts = parts[:len(parts)-1]
		}
		v.Data = make([]byte, 0, len(parts))
		for i, part := range parts {
			part = strings.TrimSpace(part)
			n, err := strconv.ParseUint(part, 16, 8)
			if err != nil || part == "" || part[0] == '+' {
				return p.errorf(line, "byte %d of the hex data, %q, is not a byte in hex (00 to ff)", i+1, clip(part))
			}
			v.Data = append(v.Data, byte(n))
		}
	}
	if p.doc.Header == Regedit4 && (v.Type == TypeExpandString || v.Type == TypeMultiString) {
		v.Data = widen(v.Data)
	}
	return nil
}

// quoted reads the string that starts at s[0] (a double quote), undoing
// \\ and \" escapes, and returns what follows its closing quote. A
// backslash before any other character starts no escape: it is kept, as
// regedit keeps it (hivexregedit drops it instead), with a warning, since
// the writer most likely meant a path and forgot to double it.
func (p *parser) quoted(s string, line int) (string, string, error) {
	var b strings.Builder
	var unescaped []string
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			if len(unescaped) > 0 {
				p.doc.Warnings = append(p.doc.Warnings, Warning{File: p.name, Line: line,
					Msg: fmt.Sprintf("%s: a backslash that starts no escape (before %s) is read as a backslash, as regedit reads it (write \\\\ for a backslash to say so)", clip(s[:i+1]), strings.Join(unescaped, ", "))})
			}
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '"') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			r, _ := utf8.DecodeRuneInString(s[i+1:])
			unescaped = append(unescaped, strconv.QuoteRune(r))
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return "", "", p.errorf(line, "the string %s has no closing quote", clip(s))
}

// clip shortens text quoted in an error.
func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
