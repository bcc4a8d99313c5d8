package blocks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/zeebo/xxh3"
)

// TestIncrementalCopyUpdatesManifestInPlace: an incremental copy writes
// the sums it changed and a header, alternating between the two slots,
// instead of replacing the manifest file.
func TestIncrementalCopyUpdatesManifestInPlace(t *testing.T) {
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	ino := func() uint64 {
		fi, err := os.Stat(f.target.Manifest)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Sys().(*syscall.Stat_t).Ino
	}
	first := ino()
	for i, wantSlot := range []int{1, 0, 1} {
		f.scribble(uint64(20+i), 3, 100)
		res := f.mustCopy(Options{})
		f.requireSame()
		m := mustManifest(t, f.target)
		if ino() != first || m.slot != wantSlot || m.seq != uint64(i+2) || m.Generation != int64(i+2) {
			t.Fatalf("copy %d: the manifest file was replaced (%v) or its header is in slot %d with sequence %d, generation %d",
				i, ino() != first, m.slot, m.seq, m.Generation)
		}
		if m.Digest() != res.Manifest.Digest() {
			t.Fatalf("copy %d: the manifest on disk holds other sums than the copy made", i)
		}
	}
}

// TestInterruptedManifestUpdateRollsBack: a copy that wrote its sums but
// not the header that vouches for them is rolled back, sums included.
func TestInterruptedManifestUpdateRollsBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	gen1 := f.targetBytes()
	f.scribble(30, 5, 100)

	orig := f.target.Host
	f.target.Host = faultyHost{Host: orig, path: f.target.Manifest, wrap: func(hf hostFile) hostFile { return failingHeaders{hf} }}
	if _, err := f.copy(Options{}); !errors.Is(err, syscall.EIO) {
		t.Fatalf("copy whose manifest header cannot be written: %v", err)
	}
	f.target.Host = orig
	if _, err := f.target.LoadManifest(ctx); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("before recovery the sums are new and the header old; loading gives %v", err)
	}
	rec, err := f.target.Recover(ctx)
	if err != nil || rec == nil || rec.Finished || rec.Generation != 1 {
		t.Fatalf("recover: %+v, %v", rec, err)
	}
	if !bytes.Equal(f.targetBytes(), gen1) {
		t.Fatal("after the rollback the target is not generation 1")
	}
	if m := mustManifest(t, f.target); m.Generation != 1 || m.State != Complete {
		t.Fatalf("after the rollback the manifest is generation %d (%s)", m.Generation, m.State)
	}
	res := f.mustCopy(Options{})
	f.requireSame()
	if res.Full || res.BlocksChanged > 10 {
		t.Errorf("the copy after the rollback: full %v, %d blocks", res.Full, res.BlocksChanged)
	}
}

// TestFormat1ManifestAndJournal: a target left by the first version, with
// a manifest of format 1 and the journal of an interrupted copy, is rolled
// back and copied to incrementally; its manifest is rewritten in the
// current format.
func TestFormat1ManifestAndJournal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	f.mustCopy(Options{BlockSize: 16 << 10})
	m := mustManifest(t, f.target)
	gen1 := f.targetBytes()

	head, _ := json.Marshal(m)
	v1 := append([]byte(manifestMagicV1), head...)
	v1 = append(append(v1, '\n'), sumBytes(m.Sums)...)
	sum := xxh3.Hash128(v1).Bytes()
	if err := os.WriteFile(f.target.Manifest, append(v1, sum[:]...), 0o600); err != nil {
		t.Fatal(err)
	}
	// The interrupted copy had overwritten 5 bytes at 4096, saved in a
	// journal of format 1.
	old := bytes.Clone(gen1[4096:4101])
	rec := le.AppendUint32(le.AppendUint64(nil, 4096), uint32(len(old))) // format 1: no kind
	rec = append(rec, old...)
	rsum := xxh3.Hash128(rec).Bytes()
	rec = append(rec, rsum[:]...)
	j := append([]byte(journalMagicV1+`{"from":1,"to":2,"target":"x"}`+"\n"), rec...)
	if err := os.WriteFile(f.target.Journal, j, 0o600); err != nil {
		t.Fatal(err)
	}
	tf, _ := os.OpenFile(f.target.Path, os.O_WRONLY, 0)
	tf.WriteAt([]byte("XXXXX"), 4096)
	tf.Close()

	got, err := f.target.Recover(ctx)
	if err != nil || got == nil || got.RolledBack != 1 || got.Generation != 1 {
		t.Fatalf("recover: %+v, %v", got, err)
	}
	if !bytes.Equal(f.targetBytes(), gen1) {
		t.Fatal("the format 1 journal was not rolled back")
	}
	f.scribble(31, 3, 100)
	res := f.mustCopy(Options{BlockSize: 16 << 10})
	f.requireSame()
	if res.Full || res.BlocksChanged > 6 {
		t.Errorf("copy over a format 1 manifest: full %v, %d blocks", res.Full, res.BlocksChanged)
	}
	b, _ := os.ReadFile(f.target.Manifest)
	if !bytes.HasPrefix(b, []byte(manifestMagic)) {
		t.Error("the manifest was not rewritten in the current format")
	}
}

// TestDamagedManifestMeansFullCopy: a manifest that cannot be read is no
// error that blocks every later copy: the target is untrusted, says why,
// and the next copy is a full one that writes a new manifest.
func TestDamagedManifestMeansFullCopy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	f.mustCopy(Options{})
	if err := os.WriteFile(f.target.Manifest, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := f.target.Inspect(ctx)
	if err != nil {
		t.Fatalf("inspecting a target whose manifest is damaged: %v", err)
	}
	if st.Trusted || !strings.Contains(st.Why, "damaged: not a block manifest") {
		t.Fatalf("status of a damaged manifest: trusted %v, why %q", st.Trusted, st.Why)
	}
	if err := st.Usable(); err == nil || !strings.Contains(err.Error(), "apply again to make a full copy") {
		t.Fatalf("a damaged manifest must not be restored from, and say what to do: %v", err)
	}
	src, _ := os.Open(f.src)
	defer src.Close()
	ch, err := Scan(ctx, src, f.target, Options{Size: testSize})
	if err != nil || !ch.Full || !strings.Contains(ch.Reason, "damaged") {
		t.Fatalf("scan over a damaged manifest: %+v, %v", ch, err)
	}
	if res := f.mustCopy(Options{}); !res.Full {
		t.Fatal("the copy over a damaged manifest was not a full one")
	}
	f.requireSame()
	if m := mustManifest(t, f.target); m.State != Complete {
		t.Fatalf("the rebuilt manifest is %s", m.State)
	}
}
