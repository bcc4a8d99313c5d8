package regf

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
)

// maxLeaf is how many keys one subkey list holds before Windows splits
// the list under an index root (ri).
const maxLeaf = 1012

// Encode writes h as a hive file: a new layout of every cell, sequence
// numbers one past the ones read (equal, so the file needs no log replay)
// and a fresh checksum.
func (h *Hive) Encode() []byte {
	w := &writer{minor: h.Minor, sks: map[string]uint32{}}
	w.newBin(0, h.Modified)
	root := w.key(h.Root, 0)
	w.closeBin()
	w.linkSecurity()

	base := make([]byte, baseSize)
	seq := uint32(1)
	if h.base != nil {
		copy(base, h.base)
		seq = max(le.Uint32(h.base[4:]), le.Uint32(h.base[8:])) + 1
	}
	copy(base, "regf")
	le.PutUint32(base[4:], seq)
	le.PutUint32(base[8:], seq)
	le.PutUint64(base[12:], toFiletime(h.Modified))
	le.PutUint32(base[20:], 1)
	le.PutUint32(base[24:], h.Minor)
	le.PutUint32(base[28:], 0)
	le.PutUint32(base[32:], 1)
	le.PutUint32(base[36:], root)
	le.PutUint32(base[40:], uint32(len(w.buf)))
	le.PutUint32(base[44:], 1)
	le.PutUint32(base[508:], checksum(base[:508]))
	return append(base, w.buf...)
}

// toFiletime is filetime's inverse; a time before 1601 is written as 0.
func toFiletime(t time.Time) uint64 {
	secs := t.Unix() - filetimeEpoch
	if t.IsZero() || secs < 0 {
		return 0
	}
	return uint64(secs)*1e7 + uint64(t.Nanosecond()/100)
}

type writer struct {
	buf    []byte // the bins; offsets are relative to its start
	binEnd int
	minor  uint32
	sks    map[string]uint32 // security descriptor → its sk cell
	skList []uint32
}

func (w *writer) put16(off uint32, field int, v uint16)  { le.PutUint16(w.buf[int(off)+4+field:], v) }
func (w *writer) put32(off uint32, field int, v uint32)  { le.PutUint32(w.buf[int(off)+4+field:], v) }
func (w *writer) copyAt(off uint32, field int, b []byte) { copy(w.buf[int(off)+4+field:], b) }
func (w *writer) get32(off uint32, field int) uint32     { return le.Uint32(w.buf[int(off)+4+field:]) }

// alloc appends an allocated cell with room for n bytes and returns its
// offset. A cell never crosses a bin: when it does not fit, the rest of the
// bin becomes a free cell and a new bin, as large as the cell needs, starts.
func (w *writer) alloc(n int) uint32 {
	size := (n + 4 + 7) &^ 7
	if len(w.buf)+size > w.binEnd {
		w.closeBin()
		w.newBin(size, time.Time{})
	}
	off := len(w.buf)
	w.buf = append(w.buf, make([]byte, size)...)
	le.PutUint32(w.buf[off:], uint32(-int32(size)))
	return uint32(off)
}

func (w *writer) newBin(cellSize int, modified time.Time) {
	size := (binHeaderSize + cellSize + 4095) &^ 4095
	start := len(w.buf)
	w.buf = append(w.buf, make([]byte, binHeaderSize)...)
	copy(w.buf[start:], "hbin")
	le.PutUint32(w.buf[start+4:], uint32(start))
	le.PutUint32(w.buf[start+8:], uint32(size))
	le.PutUint64(w.buf[start+20:], toFiletime(modified))
	w.binEnd = start + size
}

// closeBin fills the rest of the current bin with one free cell.
func (w *writer) closeBin() {
	if rest := w.binEnd - len(w.buf); rest > 0 {
		off := len(w.buf)
		w.buf = append(w.buf, make([]byte, rest)...)
		le.PutUint32(w.buf[off:], uint32(rest))
	}
}

func (w *writer) data(b []byte) uint32 {
	off := w.alloc(len(b))
	w.copyAt(off, 0, b)
	return off
}

func (w *writer) key(k *Key, parent uint32) uint32 {
	name, comp := encodeName(k.Name)
	off := w.alloc(76 + len(name))
	flags := k.Flags
	if comp {
		flags |= flagCompName
	}
	w.copyAt(off, 0, []byte("nk"))
	w.put16(off, 2, flags)
	le.PutUint64(w.buf[off+4+4:], toFiletime(k.Modified))
	w.put32(off, 12, k.access)
	w.put32(off, 16, parent)
	w.put32(off, 28, noCell)
	w.put32(off, 32, noCell)
	w.put32(off, 40, noCell)
	w.put32(off, 48, noCell)
	w.put16(off, 72, uint16(len(name)))
	w.put16(off, 74, uint16(len(k.Class)))
	w.copyAt(off, 76, name)
	w.put32(off, 44, w.security(k.Security))
	if len(k.Class) > 0 {
		w.put32(off, 48, w.data(k.Class))
	}

	var maxValueName, maxValueData uint32
	if len(k.Values) > 0 {
		list := w.alloc(4 * len(k.Values))
		for i, v := range k.Values {
			w.put32(list, 4*i, w.value(v))
			maxValueName = max(maxValueName, uint32(2*len(utf16Units(v.Name))))
			maxValueData = max(maxValueData, uint32(len(v.Data)))
		}
		w.put32(off, 36, uint32(len(k.Values)))
		w.put32(off, 40, list)
	}

	subkeys := slices.Clone(k.Subkeys)
	slices.SortFunc(subkeys, func(a, b *Key) int { return strings.Compare(upcase(a.Name), upcase(b.Name)) })
	var maxName, maxClass uint32
	offs := make([]uint32, len(subkeys))
	for i, s := range subkeys {
		offs[i] = w.key(s, off)
		maxName = max(maxName, uint32(2*len(utf16Units(s.Name))))
		maxClass = max(maxClass, uint32(len(s.Class)))
	}
	if len(subkeys) > 0 {
		w.put32(off, 20, uint32(len(subkeys)))
		w.put32(off, 28, w.subkeyList(subkeys, offs))
	}
	w.put32(off, 52, maxName&0xFFFF|k.spare)
	w.put32(off, 56, maxClass)
	w.put32(off, 60, maxValueName)
	w.put32(off, 64, maxValueData)
	return off
}

// subkeyList writes the list of the (sorted) subkeys: one lh list (lf
// before version 1.5), under an index root when it is too long for one.
func (w *writer) subkeyList(keys []*Key, offs []uint32) uint32 {
	if len(keys) <= maxLeaf {
		return w.leaf(keys, offs)
	}
	var leaves []uint32
	for i := 0; i < len(keys); i += maxLeaf {
		j := min(i+maxLeaf, len(keys))
		leaves = append(leaves, w.leaf(keys[i:j], offs[i:j]))
	}
	ri := w.alloc(4 + 4*len(leaves))
	w.copyAt(ri, 0, []byte("ri"))
	w.put16(ri, 2, uint16(len(leaves)))
	for i, l := range leaves {
		w.put32(ri, 4+4*i, l)
	}
	return ri
}

func (w *writer) leaf(keys []*Key, offs []uint32) uint32 {
	off := w.alloc(4 + 8*len(keys))
	sig := "lh"
	if w.minor < 5 {
		sig = "lf"
	}
	w.copyAt(off, 0, []byte(sig))
	w.put16(off, 2, uint16(len(keys)))
	for i, k := range keys {
		w.put32(off, 4+8*i, offs[i])
		if sig == "lh" {
			w.put32(off, 8+8*i, nameHash(k.Name))
			continue
		}
		var hint [4]byte
		for j, r := range []rune(k.Name) {
			if j == 4 {
				break
			}
			if r < 0x100 {
				hint[j] = byte(r)
			}
		}
		w.copyAt(off, 8+8*i, hint[:])
	}
	return off
}

// nameHash is the hash of an lh list entry.
func nameHash(name string) uint32 {
	var h uint32
	for _, c := range utf16Units(upcase(name)) {
		h = h*37 + uint32(c)
	}
	return h
}

func upcase(s string) string {
	return strings.Map(unicode.ToUpper, s)
}

func (w *writer) value(v *Value) uint32 {
	name, comp := encodeName(v.Name)
	off := w.alloc(20 + len(name))
	w.copyAt(off, 0, []byte("vk"))
	w.put16(off, 2, uint16(len(name)))
	w.put32(off, 12, v.Type)
	if comp {
		w.put16(off, 16, 1)
	}
	w.copyAt(off, 20, name)
	size := uint32(len(v.Data))
	switch {
	case size <= 4:
		w.put32(off, 4, size|0x80000000)
		w.copyAt(off, 8, v.Data)
	case size > bigDataMin && w.minor >= 4:
		w.put32(off, 4, size)
		w.put32(off, 8, w.bigData(v.Data))
	default:
		w.put32(off, 4, size)
		w.put32(off, 8, w.data(v.Data))
	}
	return off
}

func (w *writer) bigData(b []byte) uint32 {
	var segs []uint32
	for i := 0; i < len(b); i += bigDataMin {
		segs = append(segs, w.data(b[i:min(i+bigDataMin, len(b))]))
	}
	list := w.alloc(4 * len(segs))
	for i, s := range segs {
		w.put32(list, 4*i, s)
	}
	db := w.alloc(8)
	w.copyAt(db, 0, []byte("db"))
	w.put16(db, 2, uint16(len(segs)))
	w.put32(db, 4, list)
	return db
}

// security returns the sk cell holding sd, shared by every key with the
// same descriptor, and counts one more reference to it.
func (w *writer) security(sd []byte) uint32 {
	if sd == nil {
		sd = defaultSecurity()
	}
	if off, ok := w.sks[string(sd)]; ok {
		w.put32(off, 12, w.get32(off, 12)+1)
		return off
	}
	off := w.alloc(20 + len(sd))
	w.copyAt(off, 0, []byte("sk"))
	w.put32(off, 12, 1)
	w.put32(off, 16, uint32(len(sd)))
	w.copyAt(off, 20, sd)
	w.sks[string(sd)] = off
	w.skList = append(w.skList, off)
	return off
}

// linkSecurity chains the sk cells into the circular list Windows walks.
func (w *writer) linkSecurity() {
	n := len(w.skList)
	for i, off := range w.skList {
		w.put32(off, 4, w.skList[(i+1)%n])
		w.put32(off, 8, w.skList[(i+n-1)%n])
	}
}

// encodeName stores a name as Windows does: one byte a character when
// every character is Latin-1 (compressed), UTF-16LE otherwise.
func encodeName(s string) ([]byte, bool) {
	var b []byte
	for _, r := range s {
		if r > 0xFF {
			u := utf16Units(s)
			b = make([]byte, 2*len(u))
			for i, c := range u {
				le.PutUint16(b[2*i:], c)
			}
			return b, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }
