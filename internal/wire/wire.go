package wire

import (
	"encoding/binary"
	"fmt"
)

// AppendString appends s, its length first.
func AppendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// AppendBool appends v as one byte.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// Decoder reads what the Append functions (and binary's AppendUvarint
// and AppendVarint) wrote. After its first error every read gives zero
// values.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder reads b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

func (d *Decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	d.b = nil
}

func (d *Decoder) Uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("a number cut short or too large")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *Decoder) Varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("a number cut short or too large")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *Decoder) Uint32() uint32 {
	v := d.Uvarint()
	if v > 1<<32-1 {
		d.fail("%d does not fit 32 bits", v)
		return 0
	}
	return uint32(v)
}

func (d *Decoder) Byte() byte {
	if len(d.b) == 0 {
		d.fail("a byte cut short")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *Decoder) Bool() bool {
	switch v := d.Byte(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("%d is not a bool", v)
		return false
	}
}

func (d *Decoder) String() string {
	n := d.Uvarint()
	if n > uint64(len(d.b)) {
		d.fail("a string of %d bytes in %d", n, len(d.b))
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// Count reads the length of a list, each of whose items takes a byte at
// least: a corrupt one cannot make a huge list.
func (d *Decoder) Count() int {
	n := d.Uvarint()
	if n > uint64(len(d.b)) {
		d.fail("a list of %d in %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}

// Rest returns what is left unread, and the error so far.
func (d *Decoder) Rest() ([]byte, error) { return d.b, d.err }

// End is the error of the decoding, if any, or of bytes left after it.
func (d *Decoder) End() error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the end", len(d.b))
	}
	return d.err
}
