package bootsector

import (
	"encoding/binary"
	"fmt"
)

// The counter guest proves a copy of a disk written while it was copied
// is consistent. After printing its marker it counts for good, and for
// each count c writes, through the BIOS's extended disk write (INT 13h
// AH=43h) to the drive it booted from, sectors that hold c in their first
// four bytes (little endian), in this order:
//
//  1. the first sector, CounterFirst;
//  2. one sector of a ring of Ring sectors that follow it, c mod Ring;
//  3. the last sector of the disk.
//
// A copy of the disk as it was at one moment therefore has the last
// sector's count equal to the first's or one less, and a ring of Ring
// consecutive counts ending at the first's (or one less), as Counts
// checks. A copy read front to back while the guest writes finds the last
// sector ahead of the first.
const (
	// CounterFirst is the sector the count is written to first.
	CounterFirst = 1
	// Ring is how many sectors the ring holds: the writes that a
	// copy may take while the guest runs, with some to spare.
	Ring = 2048
)

// counterCode is real-mode x86 (assembled with GNU as, .code16, at
// 0x7C00). The data it keeps in its own sector: the disk address packet
// of the write at 0x7C7C (its LBA at 0x7C84), the count at 0x7C8C, the
// boot drive at 0x7C90, the ring mask at 0x7C92 and the last sector's LBA
// at 0x7C94 (both patched in by Counter); the marker follows at 0x7C96.
var counterCode = [...]byte{
	0xFA, 0x31, 0xC0, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0, // cli; ds = es = ss = 0
	0xBC, 0x00, 0x7C, 0xFB, 0xFC, // sp = 0x7C00; sti; cld
	0x88, 0x16, 0x90, 0x7C, // save the boot drive (dl)
	0xBF, 0x00, 0x80, 0xB9, 0x00, 0x01, 0xF3, 0xAB, // zero the sector buffer at 0x8000
	0xBE, 0x96, 0x7C, 0xBA, 0xF8, 0x03, // si = marker; dx = COM1
	0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, // print it up to its NUL
	0x83, 0x06, 0x8C, 0x7C, 0x01, 0x83, 0x16, 0x8E, 0x7C, 0x00, // main: count++ (32 bits)
	0xA1, 0x8C, 0x7C, 0xA3, 0x00, 0x80, 0xA1, 0x8E, 0x7C, 0xA3, 0x02, 0x80, // buffer[0:4] = count
	0xC7, 0x06, 0x84, 0x7C, 0x01, 0x00, 0xE8, 0x1B, 0x00, // lba = 1; write
	0xA1, 0x8C, 0x7C, 0x23, 0x06, 0x92, 0x7C, 0x83, 0xC0, 0x02, 0xA3, 0x84, 0x7C, 0xE8, 0x0B, 0x00, // lba = 2 + count&mask; write
	0xA1, 0x94, 0x7C, 0xA3, 0x84, 0x7C, 0xE8, 0x02, 0x00, // lba = last; write
	0xEB, 0xC6, // jmp main
	0xBE, 0x7C, 0x7C, 0xB4, 0x43, 0x30, 0xC0, 0x8A, 0x16, 0x90, 0x7C, 0xCD, 0x13, 0x72, 0x01, 0xC3, // write: INT 13h AH=43h; ret unless carry
	0xBA, 0xF8, 0x03, 0xB0, 0x21, 0xEE, 0xF4, 0xEB, 0xFD, 0x90, // on a failed write: print "!" and halt
	0x10, 0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00, // disk address packet: 16 bytes, 1 sector, buffer 0000:8000
	0, 0, 0, 0, 0, 0, 0, 0, // its LBA
	0, 0, 0, 0, // the count
	0, 0, // the boot drive, padding
	0, 0, // the ring mask
	0, 0, // the last sector
}

// Counter returns the counter guest's boot sector for a disk of sectors
// 512-byte sectors, printing marker (as Image) once it runs.
func Counter(marker string, sectors int64) ([]byte, error) {
	if sectors < CounterFirst+Ring+2 || sectors > 0xFFFF {
		return nil, fmt.Errorf("counter guest: a disk of %d sectors; give %d to 65535", sectors, CounterFirst+Ring+2)
	}
	if marker == "" || len(counterCode)+len(marker)+3+2 > Size {
		return nil, fmt.Errorf("counter guest marker %q: give 1 to %d characters", marker, Size-len(counterCode)-5)
	}
	b := make([]byte, Size)
	copy(b, counterCode[:])
	binary.LittleEndian.PutUint16(b[0x92:], Ring-1)
	binary.LittleEndian.PutUint16(b[0x94:], uint16(sectors-1))
	copy(b[len(counterCode):], marker+"\r\n")
	b[Size-2], b[Size-1] = 0x55, 0xAA
	return b, nil
}

// Count is what a counter guest's disk says.
type Count struct {
	// First and Last are the counts in the first and last sectors.
	First, Last uint32
	// RingLow and RingHigh are the least and greatest count in the ring.
	RingLow, RingHigh uint32
}

// Counts reads disk, the image of a counter guest's disk, and says
// whether it holds the guest's writes up to one moment: an error says
// how it does not.
func Counts(disk []byte) (Count, error) {
	at := func(sector int) uint32 { return binary.LittleEndian.Uint32(disk[sector*Size:]) }
	sectors := len(disk) / Size
	if sectors < CounterFirst+Ring+2 {
		return Count{}, fmt.Errorf("a disk of %d sectors is too small for the counter guest", sectors)
	}
	c := Count{First: at(CounterFirst), Last: at(sectors - 1), RingLow: ^uint32(0)}
	seen := make(map[uint32]bool, Ring)
	for i := range Ring {
		v := at(CounterFirst + 1 + i)
		c.RingLow, c.RingHigh = min(c.RingLow, v), max(c.RingHigh, v)
		if v != 0 && int(v%Ring) != i {
			return c, fmt.Errorf("ring sector %d holds count %d, which belongs in ring sector %d", i, v, v%Ring)
		}
		seen[v] = true
	}
	switch {
	case c.Last != c.First && c.Last+1 != c.First:
		return c, fmt.Errorf("the last sector holds count %d and the first %d: the first sector was read before the last was written, not at one moment", c.Last, c.First)
	case c.RingHigh != c.First && c.RingHigh+1 != c.First:
		return c, fmt.Errorf("the ring reaches count %d and the first sector holds %d", c.RingHigh, c.First)
	}
	// Every count of the last Ring (or all, early on) must be there:
	// a missing one is a write lost.
	for v := c.RingHigh; v > 0 && c.RingHigh-v < Ring; v-- {
		if !seen[v] {
			return c, fmt.Errorf("the ring lacks count %d although it reaches %d: a write was lost", v, c.RingHigh)
		}
	}
	return c, nil
}
