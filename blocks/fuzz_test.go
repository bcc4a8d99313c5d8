package blocks

import (
	"bytes"
	"testing"
	"time"
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
	if err != nil || got.Digest() != m.Digest() || got.State != Partial || got.CopiedAt != m.CopiedAt {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for i := range b {
		bad := bytes.Clone(b)
		bad[i] ^= 1
		if _, err := UnmarshalManifest(bad); err == nil {
			t.Fatalf("a manifest with byte %d flipped decodes", i)
		}
	}
}

func FuzzReadJournal(f *testing.F) {
	var j journal
	j.add(4096, []byte("old bytes"))
	j.add(0, make([]byte, 100))
	good := append([]byte(journalMagic+`{"from":1,"to":2,"target":"/x"}`+"\n"), j.buf...)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Fuzz(func(t *testing.T, b []byte) {
		_, recs, _ := readJournal(bytes.NewReader(b), int64(len(b)))
		for _, r := range recs {
			if r.off < 0 || r.n < 0 || r.dataOff+r.n > int64(len(b)) {
				t.Fatalf("record %+v outside a %d-byte journal", r, len(b))
			}
		}
	})
}

func TestReadJournalStopsAtTornRecord(t *testing.T) {
	var j journal
	j.add(4096, []byte("first"))
	j.add(8192, []byte("second"))
	b := append([]byte(journalMagic+`{"from":1,"to":2}`+"\n"), j.buf...)
	hdr, recs, ok := readJournal(bytes.NewReader(b), int64(len(b)))
	if !ok || hdr.From != 1 || hdr.To != 2 || len(recs) != 2 {
		t.Fatalf("intact journal: %+v %+v %v", hdr, recs, ok)
	}
	_, recs, ok = readJournal(bytes.NewReader(b[:len(b)-1]), int64(len(b)-1))
	if !ok || len(recs) != 1 || recs[0].off != 4096 {
		t.Fatalf("torn last record: %+v %v", recs, ok)
	}
	if _, _, ok := readJournal(bytes.NewReader(b[:10]), 10); ok {
		t.Fatal("a torn header reads as intact")
	}
}
