package wire

import (
	"encoding/binary"
	"strings"
	"testing"
)

// TestRoundTrip reads back what was appended, in order.
func TestRoundTrip(t *testing.T) {
	b := AppendString(nil, "fs1")
	b = AppendBool(b, true)
	b = binary.AppendVarint(b, -5)
	b = binary.AppendUvarint(b, 1<<32-1)
	b = append(b, 7)
	b = binary.AppendUvarint(b, 2)
	b = AppendString(b, "")
	b = AppendString(b, "é")
	b = append(b, "rest"...)
	d := NewDecoder(b)
	if s, v, i, u, by := d.String(), d.Bool(), d.Varint(), d.Uint32(), d.Byte(); s != "fs1" || !v || i != -5 || u != 1<<32-1 || by != 7 {
		t.Errorf("read %q %v %d %d %d", s, v, i, u, by)
	}
	if n := d.Count(); n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	if a, e := d.String(), d.String(); a != "" || e != "é" {
		t.Errorf("list %q %q", a, e)
	}
	if rest, err := d.Rest(); string(rest) != "rest" || err != nil {
		t.Errorf("rest %q, %v", rest, err)
	}
	if err := d.End(); err == nil || !strings.Contains(err.Error(), "4 bytes after the end") {
		t.Errorf("End with 4 bytes left: %v", err)
	}
}

// TestCorrupt: each kind of damage is an error, the first one kept, and
// no read after it panics or allocates what the damage claims.
func TestCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		read func(d *Decoder)
		want string
	}{
		{"number cut short", []byte{0x80}, func(d *Decoder) { d.Uvarint() }, "cut short"},
		{"signed cut short", []byte{0xff}, func(d *Decoder) { d.Varint() }, "cut short"},
		{"over 32 bits", binary.AppendUvarint(nil, 1<<32), func(d *Decoder) { d.Uint32() }, "does not fit 32 bits"},
		{"no byte", nil, func(d *Decoder) { d.Byte() }, "a byte cut short"},
		{"not a bool", []byte{2}, func(d *Decoder) { d.Bool() }, "2 is not a bool"},
		{"string longer than the message", AppendString(nil, "abc")[:2], func(d *Decoder) { _ = d.String() }, "a string of 3 bytes in 1"},
		{"huge list", binary.AppendUvarint(nil, 1<<40), func(d *Decoder) { d.Count() }, "a list of"},
		{"first error kept", []byte{2, 0x80}, func(d *Decoder) { d.Bool(); d.Uvarint(); _ = d.String() }, "2 is not a bool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(tc.b)
			tc.read(d)
			if err := d.End(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("End = %v, want %q", err, tc.want)
			}
		})
	}
}
