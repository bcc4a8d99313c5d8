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
