package blocks

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"

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
	// Labels are what the caller asked to keep with the copy.
	Labels map[string]string `json:"labels,omitempty"`
	// Sums has one entry per block of Size. A block not wholly inside the
	// extents is hashed with the bytes outside them read as zeros.
	Sums []Sum `json:"-"`

	// slot and seq say which header of a format 2 file this manifest was
	// read from (slot -1: another format), for an update in place.
	slot int
	seq  uint64
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
	sum := sumsDigest(m.Sums)
	return "xxh3:" + hex.EncodeToString(sum[:])
}

// sumsDigest is the xxh3-128 of the sums as they lie in a manifest file.
func sumsDigest(sums []Sum) [16]byte {
	return xxh3.Hash128(sumBytes(sums)).Bytes()
}

// sumBytes is the memory of sums as bytes: a manifest's sums are read,
// written and hashed in one piece, without a copy.
func sumBytes(sums []Sum) []byte {
	if len(sums) == 0 {
		return nil
	}
	return unsafe.Slice(&sums[0][0], len(sums)*len(Sum{}))
}

// A manifest file (format 2) holds two header slots and then the sums,
// 16 bytes per block, so that a copy that changed few blocks rewrites only
// their sums and a header, never the whole file:
//
//	[0, 16 KiB)       slot 0
//	[16 KiB, 32 KiB)  slot 1
//	[32 KiB, ...)     the sums
//
// A slot is the magic line, the length of a JSON header (4 bytes), the
// header, and an xxh3-128 of all three. The header with the higher
// sequence number among the intact ones is the manifest; it carries the
// digest of the sums. An update in place writes the changed sums (their old
// values saved in the undo journal first), syncs, then writes the header
// into the other slot and syncs again: a header is only ever written once
// the sums it vouches for are durable, and a torn header leaves the other
// slot in charge.
const (
	manifestMagic   = "DROVER-BLOCKS 2\n"
	manifestMagicV1 = "DROVER-BLOCKS 1\n"
	slotSize        = 16 << 10
	sumsOffset      = 2 * slotSize
)

// slotHeader is what a slot's JSON holds.
type slotHeader struct {
	Seq  uint64 `json:"seq"`
	Sums string `json:"sums"` // sumsDigest in hex
	Manifest
}

// encodeSlot encodes m's header for a slot with sequence number seq.
func encodeSlot(m *Manifest, seq uint64) ([]byte, error) {
	d := sumsDigest(m.Sums)
	head, err := json.Marshal(slotHeader{Seq: seq, Sums: hex.EncodeToString(d[:]), Manifest: *m})
	if err != nil {
		return nil, err
	}
	n := len(manifestMagic) + 4 + len(head) + 16
	if n > slotSize {
		return nil, fmt.Errorf("the manifest's header takes %d bytes, more than %d (too many extents or labels)", n, slotSize)
	}
	b := make([]byte, 0, n)
	b = append(b, manifestMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(head)))
	b = append(b, head...)
	sum := xxh3.Hash128(b).Bytes()
	return append(b, sum[:]...), nil
}

// decodeSlot decodes an intact slot; nil when it is torn or empty.
func decodeSlot(b []byte) *slotHeader {
	if len(b) < len(manifestMagic)+4+16 || string(b[:len(manifestMagic)]) != manifestMagic {
		return nil
	}
	n := int(binary.LittleEndian.Uint32(b[len(manifestMagic):]))
	end := len(manifestMagic) + 4 + n
	if n < 0 || end+16 > len(b) {
		return nil
	}
	if sum := xxh3.Hash128(b[:end]).Bytes(); !bytes.Equal(sum[:], b[end:end+16]) {
		return nil
	}
	h := new(slotHeader)
	if err := json.Unmarshal(b[len(manifestMagic)+4:end], h); err != nil {
		return nil
	}
	return h
}

// Marshal encodes m as a whole manifest file: its header in slot 0, the
// other slot empty, then the sums.
func (m *Manifest) Marshal() ([]byte, error) {
	head, err := encodeSlot(m, 1)
	if err != nil {
		return nil, err
	}
	b := make([]byte, sumsOffset, sumsOffset+len(m.Sums)*len(Sum{}))
	copy(b, head)
	return append(b, sumBytes(m.Sums)...), nil
}

// ErrCorrupt is wrapped by the error of decoding a damaged manifest or
// journal.
var ErrCorrupt = errors.New("damaged")

// maxBlocks bounds the sums a manifest may claim (a 1 PiB drive in 4 KiB
// blocks), so a damaged header cannot make the decoder allocate wildly.
const maxBlocks = 1 << 38

// UnmarshalManifest decodes a manifest file, checking its sums against
// the digest in its header. Manifests of format 1 (one header, the file
// replaced whole on every copy) are read too; the next save writes
// format 2.
func UnmarshalManifest(b []byte) (*Manifest, error) {
	if bytes.HasPrefix(b, []byte(manifestMagicV1)) {
		return unmarshalV1(b)
	}
	h, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	return h.withSums(bytes.NewReader(b), int64(len(b)))
}

// withSums reads the sums that follow header h in r (size bytes) and
// checks them against its digest.
func (h *slotHeader) withSums(r io.ReaderAt, size int64) (*Manifest, error) {
	m := &h.Manifest
	n := blockCount(m.Size, m.BlockSize)
	if size-sumsOffset != 16*n {
		return nil, fmt.Errorf("%w: %d bytes of sums for %d blocks", ErrCorrupt, max(size-sumsOffset, 0), n)
	}
	m.Sums = make([]Sum, n)
	if _, err := r.ReadAt(sumBytes(m.Sums), sumsOffset); err != nil && err != io.EOF {
		return nil, err
	}
	if d := sumsDigest(m.Sums); hex.EncodeToString(d[:]) != h.Sums {
		return nil, fmt.Errorf("%w: the sums do not match the header's digest", ErrCorrupt)
	}
	return m, nil
}

// decodeHeader picks the current header of a format 2 manifest from its
// first sumsOffset bytes (or all of b when shorter); the sums are not
// read.
func decodeHeader(b []byte) (*slotHeader, error) {
	if !bytes.HasPrefix(b, []byte(manifestMagic)) && !bytes.HasPrefix(b[min(slotSize, len(b)):], []byte(manifestMagic)) {
		return nil, fmt.Errorf("%w: not a block manifest", ErrCorrupt)
	}
	var h *slotHeader
	for s := range 2 {
		if s*slotSize >= len(b) {
			break
		}
		got := decodeSlot(b[s*slotSize : min((s+1)*slotSize, len(b))])
		if got != nil && (h == nil || got.Seq > h.Seq) {
			got.slot, got.seq = s, got.Seq
			h = got
		}
	}
	if h == nil {
		return nil, fmt.Errorf("%w: both headers are torn", ErrCorrupt)
	}
	if err := h.Manifest.check(); err != nil {
		return nil, err
	}
	return h, nil
}

// check refuses a header no copy could have written.
func (m *Manifest) check() error {
	switch {
	case m.BlockSize <= 0 || m.Size < 0 || m.Generation < 0:
		return fmt.Errorf("%w: block size %d, size %d, generation %d", ErrCorrupt, m.BlockSize, m.Size, m.Generation)
	case m.State != Complete && m.State != Partial && m.State != Tainted:
		return fmt.Errorf("%w: unknown state %q", ErrCorrupt, m.State)
	case blockCount(m.Size, m.BlockSize) > maxBlocks:
		return fmt.Errorf("%w: %d blocks", ErrCorrupt, blockCount(m.Size, m.BlockSize))
	}
	if _, err := Normalize(m.Extents, m.Size); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

// unmarshalV1 decodes format 1: a magic line, a JSON header line, the raw
// sums, and an xxh3-128 of everything before it.
func unmarshalV1(b []byte) (*Manifest, error) {
	if len(b) < len(manifestMagicV1)+16 {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	body, tail := b[:len(b)-16], b[len(b)-16:]
	if sum := xxh3.Hash128(body).Bytes(); !bytes.Equal(sum[:], tail) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	m, raw, err := headerV1(body)
	if err != nil {
		return nil, err
	}
	n := blockCount(m.Size, m.BlockSize)
	if int64(len(raw)) != 16*n {
		return nil, fmt.Errorf("%w: %d bytes of sums for %d blocks", ErrCorrupt, len(raw), n)
	}
	m.Sums = make([]Sum, n)
	copy(sumBytes(m.Sums), raw)
	return m, nil
}

// headerV1 decodes the header line of format 1 and returns what follows.
func headerV1(b []byte) (*Manifest, []byte, error) {
	rest := b[len(manifestMagicV1):]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return nil, nil, fmt.Errorf("%w: no header", ErrCorrupt)
	}
	m := &Manifest{slot: -1}
	if err := json.Unmarshal(rest[:nl], m); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if err := m.check(); err != nil {
		return nil, nil, err
	}
	return m, rest[nl+1:], nil
}

// unmarshalHeader decodes the header of a manifest file from its first
// bytes, without its sums.
func unmarshalHeader(b []byte) (*Manifest, error) {
	if bytes.HasPrefix(b, []byte(manifestMagicV1)) {
		m, _, err := headerV1(b)
		return m, err
	}
	h, err := decodeHeader(b)
	if err != nil {
		return nil, err
	}
	return &h.Manifest, nil
}

// le: the journal uses little-endian fixed-size integers.
var le = binary.LittleEndian
