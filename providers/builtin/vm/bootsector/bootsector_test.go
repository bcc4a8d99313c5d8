package bootsector

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestImage(t *testing.T) {
	b, err := Image("FS1 READY")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != Size || b[510] != 0x55 || b[511] != 0xAA {
		t.Fatalf("not a boot sector: %d bytes, signature % x", len(b), b[510:])
	}
	if si := int(binary.LittleEndian.Uint16(b[7:9])); si != 0x7C00+MarkerOffset {
		t.Errorf("the code reads its text from %#x, the marker is at %#x", si, 0x7C00+MarkerOffset)
	}
	if !bytes.HasPrefix(b[MarkerOffset:], []byte("FS1 READY\r\n\x00")) {
		t.Errorf("marker area %q", b[MarkerOffset:MarkerOffset+12])
	}
	long := bytes.Repeat([]byte("x"), MaxMarker)
	if b, err := Image(string(long)); err != nil || b[Size-3] != 0 {
		t.Errorf("the longest marker: %v, byte before the signature %#x", err, b[Size-3])
	}
	for name, bad := range map[string]string{"empty": "", "too long": string(long) + "x", "newline": "a\nb", "not ascii": "ü"} {
		t.Run(name, func(t *testing.T) {
			if _, err := Image(bad); err == nil {
				t.Errorf("Image(%q) gave no error", bad)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	const sectors = Ring + 64
	// disk is the counter guest's disk after count n, with the first
	// sector then changed by first (a later write seen, or lost).
	disk := func(n uint32, edit func(d []byte)) []byte {
		d := make([]byte, sectors*Size)
		put := func(sector int, v uint32) { binary.LittleEndian.PutUint32(d[sector*Size:], v) }
		for c := uint32(1); c <= n; c++ {
			put(CounterFirst, c)
			put(CounterFirst+1+int(c%Ring), c)
			put(sectors-1, c)
		}
		if edit != nil {
			edit(d)
		}
		return d
	}
	for _, tc := range []struct {
		name  string
		disk  []byte
		wrong string
	}{
		{"untouched", disk(0, nil), ""},
		{"early", disk(10, nil), ""},
		{"wrapped", disk(3*Ring+5, nil), ""},
		{"between writes", disk(3*Ring+5, func(d []byte) { binary.LittleEndian.PutUint32(d[CounterFirst*Size:], 3*Ring+6) }), ""},
		{"last ahead", disk(3*Ring+5, func(d []byte) { binary.LittleEndian.PutUint32(d[(sectors-1)*Size:], 3*Ring+9) }), "not at one moment"},
		{"ring write lost", disk(3*Ring+5, func(d []byte) {
			binary.LittleEndian.PutUint32(d[(CounterFirst+1+(3*Ring+2)%Ring)*Size:], 2*Ring+2)
		}), "a write was lost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Counts(tc.disk)
			switch {
			case tc.wrong == "" && err != nil:
				t.Errorf("Counts: %v", err)
			case tc.wrong != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.wrong))):
				t.Errorf("Counts = %v, want an error saying %q", err, tc.wrong)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	b, err := Counter("COUNTER READY", Ring+64)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != Size || b[510] != 0x55 || b[511] != 0xAA || !bytes.Contains(b, []byte("COUNTER READY\r\n\x00")) {
		t.Fatalf("not a counter boot sector: % x", b)
	}
	if last := binary.LittleEndian.Uint16(b[0x94:]); last != Ring+63 {
		t.Errorf("last sector %d", last)
	}
	if _, err := Counter("x", 100); err == nil {
		t.Error("a disk smaller than the ring was accepted")
	}
}
