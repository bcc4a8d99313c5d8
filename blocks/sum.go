package blocks

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"sync"

	"github.com/zeebo/xxh3"
)

// Sum is the xxh3-128 hash of one block. The zero Sum stands for a block
// whose content is not known; HashBlock never returns it.
type Sum [16]byte

// HashBlock returns the sum of one block.
func HashBlock(b []byte) Sum {
	h := xxh3.Hash128(b)
	var s Sum
	binary.BigEndian.PutUint64(s[:8], h.Hi)
	binary.BigEndian.PutUint64(s[8:], h.Lo)
	if s == (Sum{}) {
		s[15] = 1
	}
	return s
}

// Known reports whether s is the sum of a known content.
func (s Sum) Known() bool { return s != Sum{} }

func (s Sum) String() string { return hex.EncodeToString(s[:]) }

var (
	zeroMu   sync.Mutex
	zeroSums = map[int]Sum{}
	// zeros is an array, not a slice made at start: it lies in the
	// program's zeroed data, which costs nothing until read, where a
	// slice was allocated and cleared as every drover process started
	// (0.7 ms), most of which never copy a drive.
	zeros [1 << 20]byte
)

// zeroSum is the sum of n zero bytes.
func zeroSum(n int) Sum {
	zeroMu.Lock()
	defer zeroMu.Unlock()
	if s, ok := zeroSums[n]; ok {
		return s
	}
	s := HashBlock(make([]byte, n))
	zeroSums[n] = s
	return s
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeros))
		if !bytes.Equal(b[:n], zeros[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
