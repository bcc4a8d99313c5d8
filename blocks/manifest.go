package blocks

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zeebo/xxh3"
)

// State is what a target holds according to its manifest.
type State string

const (
	// Complete: the target holds generation Generation, every sum known.
	Complete State = "complete"
	// Partial: a first copy is under way; sums are known for the blocks
	// written before its last checkpoint, the rest hold anything.
	Partial State = "partial"
	// Tainted: a verify found blocks that differ from their sums.
	Tainted State = "tainted"
)

// Manifest is the record of what a target holds, block by block.
type Manifest struct {
	Generation int64     `json:"generation"`
	State      State     `json:"state"`
	BlockSize  int64     `json:"block_size"`
	Size       int64     `json:"size"`
	Extents    []Extent  `json:"extents,omitempty"` // the bytes tracked; all of Size when empty
	Identity   Identity  `json:"identity"`
	CopiedAt   time.Time `json:"copied_at"`
	Note       string    `json:"note,omitempty"` // why it is tainted
	// Sums has one entry per block of Size. A block not wholly inside the
	// extents is hashed with the bytes outside them read as zeros.
	Sums []Sum `json:"-"`
}

// blockCount is how many blocks cover size bytes.
func blockCount(size, blockSize int64) int64 { return (size + blockSize - 1) / blockSize }

func (m *Manifest) extents() []Extent {
	if len(m.Extents) == 0 {
		return whole(m.Size)
	}
	return m.Extents
}

// Digest is a digest of the content the manifest describes: equal for two
// targets holding the same bytes in the same extents with the same block
// size.
func (m *Manifest) Digest() string {
	h := xxh3.New()
	for _, s := range m.Sums {
		h.Write(s[:])
	}
	sum := h.Sum128().Bytes()
	return "xxh3:" + fmt.Sprintf("%x", sum[:])
}

const manifestMagic = "DROVER-BLOCKS 1\n"

// Marshal encodes m: a magic line, a JSON header line, the raw sums, and
// an xxh3-128 of everything before it.
func (m *Manifest) Marshal() ([]byte, error) {
	head, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(manifestMagic) + len(head) + 1 + 16*(len(m.Sums)+1))
	b.WriteString(manifestMagic)
	b.Write(head)
	b.WriteByte('\n')
	for _, s := range m.Sums {
		b.Write(s[:])
	}
	sum := xxh3.Hash128(b.Bytes()).Bytes()
	b.Write(sum[:])
	return b.Bytes(), nil
}

// ErrCorrupt is wrapped by the error of decoding a damaged manifest or
// journal.
var ErrCorrupt = errors.New("damaged")

// maxBlocks bounds the sums a manifest may claim (a 1 PiB drive in 4 KiB
// blocks), so a damaged header cannot make the decoder allocate wildly.
const maxBlocks = 1 << 38

// UnmarshalManifest decodes what Marshal encoded.
func UnmarshalManifest(b []byte) (*Manifest, error) {
	if !bytes.HasPrefix(b, []byte(manifestMagic)) {
		return nil, fmt.Errorf("%w: not a block manifest", ErrCorrupt)
	}
	if len(b) < len(manifestMagic)+16 {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	body, tail := b[:len(b)-16], b[len(b)-16:]
	if sum := xxh3.Hash128(body).Bytes(); !bytes.Equal(sum[:], tail) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	rest := body[len(manifestMagic):]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return nil, fmt.Errorf("%w: no header", ErrCorrupt)
	}
	m := new(Manifest)
	if err := json.Unmarshal(rest[:nl], m); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	switch {
	case m.BlockSize <= 0 || m.Size < 0 || m.Generation < 0:
		return nil, fmt.Errorf("%w: block size %d, size %d, generation %d", ErrCorrupt, m.BlockSize, m.Size, m.Generation)
	case m.State != Complete && m.State != Partial && m.State != Tainted:
		return nil, fmt.Errorf("%w: unknown state %q", ErrCorrupt, m.State)
	}
	if _, err := Normalize(m.Extents, m.Size); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	n := blockCount(m.Size, m.BlockSize)
	raw := rest[nl+1:]
	if n > maxBlocks || int64(len(raw)) != 16*n {
		return nil, fmt.Errorf("%w: %d bytes of sums for %d blocks", ErrCorrupt, len(raw), n)
	}
	m.Sums = make([]Sum, n)
	for i := range m.Sums {
		copy(m.Sums[i][:], raw[16*i:])
	}
	return m, nil
}

// putRecordHeader and the journal use little-endian fixed-size integers.
var le = binary.LittleEndian
