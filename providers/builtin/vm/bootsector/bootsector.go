package bootsector

import (
	"fmt"
	"strings"
)

// Size is the size of a boot sector.
const Size = 512

// MarkerOffset is where the marker starts in the sector.
const MarkerOffset = len(code)

// MaxMarker is the longest marker that fits: the sector also holds the
// code, CR LF, the NUL that ends the text and the boot signature.
const MaxMarker = Size - len(code) - 3 - 2

// Serial is the I/O port the sector writes to: COM1's data register.
const Serial = 0x3F8

// code is real-mode x86, loaded by the BIOS at 0000:7C00. It writes the
// NUL-terminated text at 0x7C00+MarkerOffset to COM1, then halts with
// interrupts off, for good.
var code = [...]byte{
	0xFA,       // cli
	0xFC,       // cld: lodsb counts up
	0x31, 0xC0, // xor ax, ax
	0x8E, 0xD8, // mov ds, ax
	0xBE, 0x17, 0x7C, // mov si, 0x7C17 (0x7C00 + MarkerOffset)
	0xBA, 0xF8, 0x03, // mov dx, 0x3F8
	0xAC,       // next: lodsb
	0x84, 0xC0, // test al, al
	0x74, 0x03, // jz done
	0xEE,       // out dx, al
	0xEB, 0xF8, // jmp next
	0xF4,       // done: hlt
	0xEB, 0xFD, // jmp done
}

// Image returns the boot sector printing marker followed by CR LF. The
// marker is printable ASCII, at most MaxMarker bytes.
func Image(marker string) ([]byte, error) {
	if marker == "" || len(marker) > MaxMarker {
		return nil, fmt.Errorf("boot sector marker %q: give 1 to %d characters", marker, MaxMarker)
	}
	if i := strings.IndexFunc(marker, func(r rune) bool { return r < 0x20 || r > 0x7E }); i >= 0 {
		return nil, fmt.Errorf("boot sector marker %q: only printable ASCII fits (byte %d is not)", marker, i)
	}
	b := make([]byte, Size)
	copy(b, code[:])
	copy(b[MarkerOffset:], marker+"\r\n")
	b[Size-2], b[Size-1] = 0x55, 0xAA
	return b, nil
}
