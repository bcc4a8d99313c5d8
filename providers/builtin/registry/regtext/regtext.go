package regtext

import "fmt"

// Registry value types.
const (
	TypeNone             uint32 = 0
	TypeString           uint32 = 1
	TypeExpandString     uint32 = 2
	TypeBinary           uint32 = 3
	TypeDWord            uint32 = 4
	TypeDWordBigEndian   uint32 = 5
	TypeLink             uint32 = 6
	TypeMultiString      uint32 = 7
	TypeResourceList     uint32 = 8
	TypeFullResource     uint32 = 9
	TypeResourceRequired uint32 = 10
	TypeQWord            uint32 = 11
)

// Header is the first line of a .reg file, which decides how hex(2) and
// hex(7) data are encoded.
type Header int

const (
	// Version5 is "Windows Registry Editor Version 5.00": string data in
	// hex is UTF-16LE.
	Version5 Header = iota
	// Regedit4 is "REGEDIT4": string data in hex is ANSI, one byte a
	// character.
	Regedit4
)

func (h Header) String() string {
	if h == Regedit4 {
		return "REGEDIT4"
	}
	return "Windows Registry Editor Version 5.00"
}

// Encoding is how the text of a file is stored.
type Encoding int

const (
	// UTF16LE with a byte-order mark and CRLF line ends: what Windows
	// writes.
	UTF16LE Encoding = iota
	// UTF8 without a byte-order mark, LF line ends.
	UTF8
	// ANSI is Windows-1252 with CRLF line ends, as REGEDIT4 files are.
	ANSI
)

func (e Encoding) String() string {
	switch e {
	case UTF8:
		return "UTF-8"
	case ANSI:
		return "ANSI (Windows-1252)"
	default:
		return "UTF-16LE"
	}
}

// Document is the content of a .reg file.
type Document struct {
	Header   Header
	Encoding Encoding
	Keys     []Key
	// Warnings are what Decode read in a way the file's writer may not
	// have meant; Encode ignores them.
	Warnings []Warning
}

// Key is one [KEY] section: a key and the values set or deleted in it, or,
// with Delete, the removal of the key and everything below it ([-KEY]).
type Key struct {
	// Path is the key's path as written between the brackets.
	Path   string
	Delete bool
	Values []Value
	// Line is the line of the [KEY] header in the file it was read from
	// (0 when the key was not read from a file).
	Line int
}

// Value is one value line: a value set to Type and Data, or, with Delete,
// the removal of the value ("name"=-).
type Value struct {
	// Name is "" for the key's default value (@).
	Name   string
	Delete bool
	Type   uint32
	// Data is the value as the registry stores it.
	Data []byte
	Line int
}

// SyntaxError is a line of a .reg file that cannot be read.
type SyntaxError struct {
	File string
	Line int // 0 when the problem is the whole file
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Warning is a line of a .reg file that was read, but perhaps not as its
// writer meant.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg) }
