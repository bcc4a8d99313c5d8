package regtext

import (
	"encoding/binary"
	"unicode/utf16"
)

// String returns the registry data of a REG_SZ holding s: UTF-16LE with a
// terminating NUL.
func String(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return append(b, 0, 0)
}

// MultiString returns the registry data of a REG_MULTI_SZ holding ss.
func MultiString(ss []string) []byte {
	var b []byte
	for _, s := range ss {
		b = append(b, String(s)...)
	}
	return append(b, 0, 0)
}

// DWord returns the registry data of a REG_DWORD.
func DWord(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }

// AsString reads string data: UTF-16LE, ending at the first NUL. ok is
// false when the data is not whole UTF-16LE code units of valid text.
func AsString(b []byte) (s string, ok bool) {
	if len(b)%2 != 0 {
		return "", false
	}
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), validSurrogates(u)
}

// plainString reports whether REG_SZ data can be written as a quoted
// string and read back to the same bytes: text, a single terminating NUL,
// no line breaks.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || len(b)%2 != 0 || b[len(b)-1] != 0 || b[len(b)-2] != 0 {
		return "", false
	}
	u := make([]uint16, len(b)/2-1)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
		if u[i] == 0 || u[i] == '\r' || u[i] == '\n' {
			return "", false
		}
	}
	if !validSurrogates(u) {
		return "", false
	}
	return string(utf16.Decode(u)), true
}

// validSurrogates reports whether every surrogate in u is half of a pair.
func validSurrogates(u []uint16) bool {
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case c >= 0xD800 && c < 0xDC00:
			if i+1 >= len(u) || u[i+1] < 0xDC00 || u[i+1] >= 0xE000 {
				return false
			}
			i++
		case c >= 0xDC00 && c < 0xE000:
			return false
		}
	}
	return true
}

// cp1252 maps the bytes 0x80–0x9F of Windows-1252 to runes as Windows
// converts them (the five unassigned bytes to the C1 control of the same
// number, so that every byte converts and converts back); the other bytes
// are their Latin-1 runes.
var cp1252 = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

func ansiRune(b byte) rune {
	if b >= 0x80 && b < 0xA0 {
		return cp1252[b-0x80]
	}
	return rune(b)
}

func ansiByte(r rune) (byte, bool) {
	if r < 0x80 || (r >= 0xA0 && r <= 0xFF) {
		return byte(r), true
	}
	for i, c := range cp1252 {
		if c == r {
			return byte(0x80 + i), true
		}
	}
	return 0, false
}

// widen turns ANSI string data (REGEDIT4 hex(2) and hex(7)) into the
// UTF-16LE the registry stores.
func widen(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = binary.LittleEndian.AppendUint16(out, uint16(ansiRune(c)))
	}
	return out
}

// narrow is the inverse of widen; ok is false when a character has no
// ANSI byte.
func narrow(b []byte) ([]byte, bool) {
	if len(b)%2 != 0 {
		return nil, false
	}
	out := make([]byte, 0, len(b)/2)
	for i := 0; i < len(b); i += 2 {
		c, ok := ansiByte(rune(binary.LittleEndian.Uint16(b[i:])))
		if !ok {
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}
