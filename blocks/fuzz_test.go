package blocks

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/zeebo/xxh3"
)

func FuzzUnmarshalManifest(f *testing.F) {
	m := &Manifest{Generation: 3, State: Complete, BlockSize: 4096, Size: 10000,
		Extents: []Extent{{0, 512}, {4096, 5000}}, Identity: Identity{Size: 10000, Dev: 1, Inode: 2, ModTime: 3},
		CopiedAt: time.Unix(1700000000, 0).UTC(), Sums: []Sum{HashBlock([]byte("a")), {}, HashBlock([]byte("c"))}}
	good, err := m.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte(manifestMagic + "{}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := UnmarshalManifest(b)
		if err != nil {
			return
		}
		if int64(len(m.Sums)) != blockCount(m.Size, m.BlockSize) {
			t.Fatalf("%d sums for %d bytes in blocks of %d", len(m.Sums), m.Size, m.BlockSize)
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := UnmarshalManifest(again); err != nil {
			t.Fatalf("a decoded manifest does not decode again: %v", err)
		}
	})
}

func TestManifestRoundTrip(t *testing.T) {
	m := &Manifest{Generation: 1, State: Partial, BlockSize: 512, Size: 1025,
		CopiedAt: time.Unix(1, 0).UTC(), Sums: []Sum{HashBlock(nil), {}, HashBlock([]byte{1})}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalManifest(b)
	if err != nil || got.Digest() != m.Digest() || got.State != Partial || got.CopiedAt != m.CopiedAt || got.slot != 0 {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	head, _ := encodeSlot(m, 1)
	for i := range b {
		if i >= len(head) && i < sumsOffset {
			continue // the rest of the slots is free space
		}
		bad := bytes.Clone(b)
		bad[i] ^= 1
		if _, err := UnmarshalManifest(bad); err == nil {
			t.Fatalf("a manifest with byte %d flipped decodes", i)
		}
	}
}

// TestManifestSlots: the intact header with the higher sequence number is
// the manifest; a torn one leaves the other in charge.
func TestManifestSlots(t *testing.T) {
	m := &Manifest{Generation: 1, State: Complete, BlockSize: 512, Size: 1024,
		CopiedAt: time.Unix(1, 0).UTC(), Sums: []Sum{HashBlock([]byte{1}), HashBlock([]byte{2})}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	next := *m
	next.Generation = 2
	head, err := encodeSlot(&next, 2)
	if err != nil {
		t.Fatal(err)
	}
	copy(b[slotSize:], head)
	got, err := UnmarshalManifest(b)
	if err != nil || got.Generation != 2 || got.slot != 1 || got.seq != 2 {
		t.Fatalf("newer header in slot 1: %+v, %v", got, err)
	}
	b[slotSize+len(head)-1] ^= 1
	got, err = UnmarshalManifest(b)
	if err != nil || got.Generation != 1 || got.slot != 0 {
		t.Fatalf("torn header in slot 1: %+v, %v", got, err)
	}
	b[sumsOffset] ^= 1
	if _, err := UnmarshalManifest(b); err == nil {
		t.Fatal("sums that match no header decode")
	}
	if h, err := unmarshalHeader(b[:sumsOffset]); err != nil || h.Generation != 1 {
		t.Fatalf("the header alone: %+v, %v", h, err)
	}
}

// TestManifestFormat1 reads a manifest of the first format, which the
// next save replaces with the current one.
func TestManifestFormat1(t *testing.T) {
	sums := []Sum{HashBlock([]byte{1}), HashBlock([]byte{2})}
	b := []byte(manifestMagicV1 + `{"generation":4,"state":"complete","block_size":16384,"size":20000,"identity":{"size":20000},"copied_at":"2026-01-02T03:04:05Z"}` + "\n")
	b = append(b, sumBytes(sums)...)
	sum := xxh3.Hash128(b).Bytes()
	b = append(b, sum[:]...)
	m, err := UnmarshalManifest(b)
	if err != nil || m.Generation != 4 || m.BlockSize != 16384 || len(m.Sums) != 2 || m.Sums[1] != sums[1] || m.slot != -1 {
		t.Fatalf("format 1: %+v, %v", m, err)
	}
	if h, err := unmarshalHeader(b); err != nil || h.Generation != 4 || h.Sums != nil {
		t.Fatalf("format 1 header: %+v, %v", h, err)
	}
	b[len(b)-1] ^= 1
	if _, err := UnmarshalManifest(b); err == nil {
		t.Fatal("a damaged format 1 manifest decodes")
	}
}

// journalBytes is a journal of format 2 holding recs.
func journalBytes(hdr journalHeader, recs []byte) []byte {
	head, _ := json.Marshal(hdr)
	b := append([]byte(journalMagic), le.AppendUint32(nil, uint32(len(head)))...)
	b = append(b, head...)
	sum := xxh3.Hash128(b).Bytes()
	b = append(b, sum[:]...)
	return append(append(b, make([]byte, journalData-len(b))...), recs...)
}

func FuzzReadJournal(f *testing.F) {
	hdr := journalHeader{From: 1, To: 2, Target: "/x", Nonce: 7, Open: true}
	recs := appendRecord(nil, hdr.Nonce, ofTarget, 4096, []byte("old bytes"))
	recs = appendRecord(recs, hdr.Nonce, ofManifest, sumsOffset, make([]byte, 16))
	good := journalBytes(hdr, recs)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append([]byte(journalMagicV1+`{"from":1,"to":2,"target":"/x"}`+"\n"), recs[1:]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, recs, _ := readJournal(bytes.NewReader(b), int64(len(b)))
		for _, r := range recs {
			if r.off < 0 || r.n < 0 || r.what > ofManifest || r.dataOff+r.n > int64(len(b)) {
				t.Fatalf("record %+v outside a %d-byte journal", r, len(b))
			}
		}
	})
}

func TestReadJournalStopsAtTornRecord(t *testing.T) {
	hdr := journalHeader{From: 1, To: 2, Nonce: 9, Open: true}
	b := appendRecord(nil, hdr.Nonce, ofTarget, 4096, []byte("first"))
	b = appendRecord(b, hdr.Nonce, ofManifest, 8192, []byte("second"))
	b = journalBytes(hdr, b)
	got, recs, ok := readJournal(bytes.NewReader(b), int64(len(b)))
	if !ok || got.From != 1 || got.To != 2 || len(recs) != 2 || recs[0].what != ofTarget || recs[1].what != ofManifest {
		t.Fatalf("intact journal: %+v %+v %v", got, recs, ok)
	}
	_, recs, ok = readJournal(bytes.NewReader(b[:len(b)-1]), int64(len(b)-1))
	if !ok || len(recs) != 1 || recs[0].off != 4096 {
		t.Fatalf("torn last record: %+v %v", recs, ok)
	}
	if _, _, ok := readJournal(bytes.NewReader(b[:10]), 10); ok {
		t.Fatal("a torn header reads as intact")
	}
	// The records of an earlier copy, left behind a new header, are not
	// this copy's.
	hdr.Nonce = 10
	if _, recs, ok := readJournal(bytes.NewReader(journalBytes(hdr, b[journalData:])), int64(len(b))); !ok || len(recs) != 0 {
		t.Fatalf("stale records under a new nonce: %+v %v", recs, ok)
	}
	hdr.Open = false
	if closed := journalBytes(hdr, nil); !journalClosed(closed) {
		t.Fatal("a closed journal reads as open")
	}
}
