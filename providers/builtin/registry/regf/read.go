package regf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"
)

const (
	baseSize      = 4096
	binHeaderSize = 32
	// bigDataMin is the data size above which hives of minor version 4
	// and later split data into segments of a big-data (db) cell.
	bigDataMin = 16344
	// maxDepth bounds key nesting, as Windows does (512 levels).
	maxDepth = 512
	noCell   = 0xFFFFFFFF
)

var le = binary.LittleEndian

// Read parses a whole hive file.
func Read(b []byte) (*Hive, error) {
	if len(b) < 4 || !bytes.Equal(b[:4], []byte("regf")) {
		return nil, &FormatError{0, "the file does not start with the \"regf\" signature of a registry hive"}
	}
	if len(b) < baseSize+binHeaderSize {
		return nil, &FormatError{0, fmt.Sprintf("the file is %d bytes, too short for a hive (a base block of 4,096 bytes and at least one bin)", len(b))}
	}
	if sum := checksum(b[:508]); sum != le.Uint32(b[508:]) {
		return nil, &FormatError{508, fmt.Sprintf("the base block checksum is %#x, but its content sums to %#x: the header is damaged", le.Uint32(b[508:]), sum)}
	}
	if major := le.Uint32(b[20:]); major != 1 {
		return nil, &FormatError{20, fmt.Sprintf("format version %d.%d is not supported (only 1.x)", major, le.Uint32(b[24:]))}
	}
	if t := le.Uint32(b[28:]); t != 0 {
		return nil, &FormatError{28, fmt.Sprintf("the file type is %d: this is a transaction log, not a primary hive file", t)}
	}
	r := &reader{b: b, minor: le.Uint32(b[24:]), seen: map[uint32]bool{}}
	if size := int64(le.Uint32(b[40:])); baseSize+size > int64(len(b)) {
		return nil, &FormatError{40, fmt.Sprintf("the header says the bins hold %d bytes, but the file ends %d bytes after the base block: it is truncated", size, len(b)-baseSize)}
	} else {
		r.b = b[:baseSize+size]
	}
	if !bytes.Equal(r.b[baseSize:baseSize+4], []byte("hbin")) {
		return nil, &FormatError{baseSize, "the first bin has no \"hbin\" signature"}
	}
	h := &Hive{Minor: r.minor, Modified: filetime(le.Uint64(b[12:])), base: bytes.Clone(b[:baseSize])}
	root, err := r.key(le.Uint32(b[36:]), nil, 0)
	if err != nil {
		return nil, err
	}
	h.Root = root
	return h, nil
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i+4 <= len(b); i += 4 {
		sum ^= le.Uint32(b[i:])
	}
	switch sum {
	case 0:
		return 1
	case 0xFFFFFFFF:
		return 0xFFFFFFFE
	}
	return sum
}

// filetimeEpoch is the Unix time of a FILETIME's epoch, 1601-01-01.
const filetimeEpoch = -11644473600

// filetime converts a Windows FILETIME (100 ns ticks since 1601), every
// value of it: 0 is no time, and times past the year 2262 (which
// time.Duration and UnixNano cannot hold) read as written.
func filetime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	return time.Unix(int64(ft/1e7)+filetimeEpoch, int64(ft%1e7)*100).UTC()
}

type reader struct {
	b     []byte
	minor uint32
	seen  map[uint32]bool
}

func (r *reader) errorf(off uint32, format string, args ...any) error {
	return &FormatError{int64(off) + baseSize, fmt.Sprintf(format, args...)}
}

// cell returns the content of the allocated cell at off (relative to the
// first bin), without its size field.
func (r *reader) cell(off uint32, what string) ([]byte, error) {
	pos := int64(off) + baseSize
	if off == noCell || off%8 != 0 || pos+4 > int64(len(r.b)) {
		return nil, r.errorf(off, "the %s cell offset %#x is outside the hive", what, off)
	}
	size := int32(le.Uint32(r.b[pos:]))
	if size >= 0 {
		return nil, r.errorf(off, "the %s cell at %#x is free, not allocated", what, off)
	}
	n := -int64(size)
	if n < 8 || pos+n > int64(len(r.b)) {
		return nil, r.errorf(off, "the %s cell at %#x has the impossible size %d", what, off, n)
	}
	return r.b[pos+4 : pos+n], nil
}

func (r *reader) key(off uint32, parent *Key, depth int) (*Key, error) {
	if depth > maxDepth {
		return nil, r.errorf(off, "keys are nested more than %d deep", maxDepth)
	}
	if r.seen[off] {
		return nil, r.errorf(off, "the key at %#x is reached twice: the key tree has a loop", off)
	}
	r.seen[off] = true
	c, err := r.cell(off, "key")
	if err != nil {
		return nil, err
	}
	if len(c) < 76 || c[0] != 'n' || c[1] != 'k' {
		return nil, r.errorf(off, "the cell at %#x is not a key node", off)
	}
	nameLen, classLen := int(le.Uint16(c[72:])), int(le.Uint16(c[74:]))
	if 76+nameLen > len(c) {
		return nil, r.errorf(off, "the key name at %#x runs past its cell", off)
	}
	flags := le.Uint16(c[2:])
	k := &Key{
		Name:     decodeName(c[76:76+nameLen], flags&flagCompName != 0),
		Modified: filetime(le.Uint64(c[4:])),
		Flags:    flags &^ flagCompName,
		access:   le.Uint32(c[12:]),
		spare:    le.Uint32(c[52:]) &^ 0xFFFF,
		parent:   parent,
	}
	if sk := le.Uint32(c[44:]); sk != noCell {
		sd, err := r.cell(sk, "security")
		if err != nil {
			return nil, err
		}
		if len(sd) < 20 || sd[0] != 's' || sd[1] != 'k' || 20+int64(le.Uint32(sd[16:])) > int64(len(sd)) {
			return nil, r.errorf(sk, "the security cell of key %q is damaged", k.Name)
		}
		k.Security = bytes.Clone(sd[20 : 20+le.Uint32(sd[16:])])
	}
	if cl := le.Uint32(c[48:]); cl != noCell && classLen > 0 {
		data, err := r.cell(cl, "class name")
		if err != nil {
			return nil, err
		}
		if classLen > len(data) {
			return nil, r.errorf(cl, "the class name of key %q runs past its cell", k.Name)
		}
		k.Class = bytes.Clone(data[:classLen])
	}
	if n := le.Uint32(c[36:]); n > 0 {
		if k.Values, err = r.values(le.Uint32(c[40:]), n, k.Name); err != nil {
			return nil, err
		}
	}
	if n := le.Uint32(c[20:]); n > 0 {
		offs, err := r.subkeyList(le.Uint32(c[28:]), 0)
		if err != nil {
			return nil, err
		}
		if uint32(len(offs)) != n {
			return nil, r.errorf(off, "key %q says it has %d subkeys, but its lists hold %d", k.Name, n, len(offs))
		}
		for _, o := range offs {
			s, err := r.key(o, k, depth+1)
			if err != nil {
				return nil, err
			}
			k.Subkeys = append(k.Subkeys, s)
		}
	}
	return k, nil
}

func decodeName(b []byte, compressed bool) string {
	if compressed {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = le.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// subkeyList returns the key node offsets of an lf, lh, li or ri list.
func (r *reader) subkeyList(off uint32, depth int) ([]uint32, error) {
	c, err := r.cell(off, "subkey list")
	if err != nil {
		return nil, err
	}
	if len(c) < 4 {
		return nil, r.errorf(off, "the subkey list at %#x is too short", off)
	}
	n := int(le.Uint16(c[2:]))
	sig := string(c[:2])
	stride := 8
	if sig == "li" || sig == "ri" {
		stride = 4
	}
	if sig != "lf" && sig != "lh" && sig != "li" && sig != "ri" {
		return nil, r.errorf(off, "the cell at %#x is not a subkey list", off)
	}
	if 4+n*stride > len(c) {
		return nil, r.errorf(off, "the subkey list at %#x runs past its cell", off)
	}
	var out []uint32
	for i := 0; i < n; i++ {
		o := le.Uint32(c[4+i*stride:])
		if sig != "ri" {
			out = append(out, o)
			continue
		}
		if depth > 0 {
			return nil, r.errorf(off, "an index root at %#x points to another index root", off)
		}
		sub, err := r.subkeyList(o, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

func (r *reader) values(off, n uint32, key string) ([]*Value, error) {
	c, err := r.cell(off, "value list")
	if err != nil {
		return nil, err
	}
	if int64(n)*4 > int64(len(c)) {
		return nil, r.errorf(off, "key %q says it has %d values, but its value list holds at most %d", key, n, len(c)/4)
	}
	out := make([]*Value, 0, n)
	for i := uint32(0); i < n; i++ {
		v, err := r.value(le.Uint32(c[4*i:]), key)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (r *reader) value(off uint32, key string) (*Value, error) {
	c, err := r.cell(off, "value")
	if err != nil {
		return nil, err
	}
	if len(c) < 20 || c[0] != 'v' || c[1] != 'k' {
		return nil, r.errorf(off, "the cell at %#x in the values of key %q is not a value", off, key)
	}
	nameLen := int(le.Uint16(c[2:]))
	if 20+nameLen > len(c) {
		return nil, r.errorf(off, "a value name of key %q runs past its cell", key)
	}
	v := &Value{Name: decodeName(c[20:20+nameLen], le.Uint16(c[16:])&1 != 0), Type: le.Uint32(c[12:])}
	size := le.Uint32(c[4:])
	dataOff := le.Uint32(c[8:])
	switch {
	case size&0x80000000 != 0:
		size &^= 0x80000000
		if size > 4 {
			return nil, r.errorf(off, "value %q of key %q is resident but %d bytes long", v.Name, key, size)
		}
		v.Data = bytes.Clone(c[8 : 8+size])
	case size == 0:
		v.Data = []byte{}
	default:
		data, err := r.cell(dataOff, "value data")
		if err != nil {
			return nil, err
		}
		if size > bigDataMin && r.minor >= 4 && len(data) >= 8 && data[0] == 'd' && data[1] == 'b' {
			if v.Data, err = r.bigData(data, dataOff, size); err != nil {
				return nil, err
			}
			break
		}
		if int64(size) > int64(len(data)) {
			return nil, r.errorf(dataOff, "value %q of key %q is %d bytes, but its data cell holds %d", v.Name, key, size, len(data))
		}
		v.Data = bytes.Clone(data[:size])
	}
	return v, nil
}

func (r *reader) bigData(db []byte, off, size uint32) ([]byte, error) {
	n := int(le.Uint16(db[2:]))
	if int64(size) > int64(n)*bigDataMin || int64(size) > int64(len(r.b)) {
		return nil, r.errorf(off, "the big data at %#x cannot hold the %d bytes its value says", off, size)
	}
	list, err := r.cell(le.Uint32(db[4:]), "big data segment list")
	if err != nil {
		return nil, err
	}
	if n*4 > len(list) {
		return nil, r.errorf(off, "the big data cell at %#x lists more segments than its list holds", off)
	}
	out := make([]byte, 0, size)
	for i := 0; i < n && uint32(len(out)) < size; i++ {
		seg, err := r.cell(le.Uint32(list[4*i:]), "big data segment")
		if err != nil {
			return nil, err
		}
		take := min(len(seg), bigDataMin, int(size)-len(out))
		out = append(out, seg[:take]...)
	}
	if uint32(len(out)) != size {
		return nil, r.errorf(off, "the big data at %#x holds %d bytes, not the %d its value says", off, len(out), size)
	}
	return out, nil
}
