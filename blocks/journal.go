package blocks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/drover-dr/drover/host"
	"github.com/zeebo/xxh3"
)

// The undo journal holds the old content of every range a copy overwrites
// in a complete generation, of the target and of its manifest's sums. Each
// batch of records is synced before the ranges it saves are overwritten,
// so after a crash every overwritten range has an intact record; a torn
// record at the end belongs to a batch whose overwrites never started.
//
// Layout: a magic line, a JSON header line, then records of what (1 byte:
// the target or the manifest), offset (8 bytes), length (4), the old
// bytes, and an xxh3-128 of the four. Journals of format 1, left by an
// interrupted copy of an older version, have records without what: all of
// the target.
const (
	journalMagic   = "DROVER-JOURNAL 2\n"
	journalMagicV1 = "DROVER-JOURNAL 1\n"
)

// What a journal record saves.
const (
	ofTarget   byte = 0
	ofManifest byte = 1
)

type journalHeader struct {
	From   int64  `json:"from"` // the complete generation the target held
	To     int64  `json:"to"`   // the generation being written
	Target string `json:"target"`
}

type journal struct {
	f   host.File
	off int64
}

// createJournal creates the journal and makes its header durable, its
// name included.
func createJournal(ctx context.Context, t Target, hdr journalHeader) (*journal, error) {
	f, err := t.Host.OpenFile(ctx, t.Journal, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	head, _ := json.Marshal(hdr)
	b := append(append([]byte(journalMagic), head...), '\n')
	j := &journal{f: f}
	if _, err := f.WriteAt(b, 0); err != nil {
		f.Close()
		return nil, err
	}
	j.off = int64(len(b))
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(ctx, t.Host, filepath.Dir(t.Journal)); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

// appendRecord appends to recs the record saving old, the bytes of what
// at off.
func appendRecord(recs []byte, what byte, off int64, old []byte) []byte {
	start := len(recs)
	recs = append(recs, what)
	recs = le.AppendUint64(recs, uint64(off))
	recs = le.AppendUint32(recs, uint32(len(old)))
	recs = append(recs, old...)
	sum := xxh3.Hash128(recs[start:]).Bytes()
	return append(recs, sum[:]...)
}

// commit writes records and syncs them: only then may the ranges they
// save be overwritten.
func (j *journal) commit(recs []byte) error {
	if len(recs) == 0 {
		return nil
	}
	if _, err := j.f.WriteAt(recs, j.off); err != nil {
		return fmt.Errorf("writing the undo journal: %w", err)
	}
	j.off += int64(len(recs))
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("syncing the undo journal: %w", err)
	}
	return nil
}

func (j *journal) close() error { return j.f.Close() }

// record is where one intact record's old bytes lie in the journal.
type record struct {
	what    byte
	off     int64 // in the target or the manifest
	n       int64
	dataOff int64 // in the journal
}

// readJournal reads the header and the intact records of a journal.
// headerOK is false when the header itself is torn: nothing was
// overwritten yet.
func readJournal(r io.ReaderAt, size int64) (hdr journalHeader, recs []record, headerOK bool) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<20)
	magic := make([]byte, len(journalMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != journalMagic && string(magic) != journalMagicV1 {
		return hdr, nil, false
	}
	tagged := string(magic) == journalMagic
	line, err := br.ReadBytes('\n')
	if err != nil {
		return hdr, nil, false
	}
	if err := json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &hdr); err != nil {
		return hdr, nil, false
	}
	pos := int64(len(journalMagic) + len(line))
	h := xxh3.New()
	head := make([]byte, 13)
	if !tagged {
		head = head[1:]
	}
	var sum [16]byte
	for {
		if _, err := io.ReadFull(br, head); err != nil {
			return hdr, recs, true
		}
		rec := record{what: ofTarget}
		at := head
		if tagged {
			rec.what, at = head[0], head[1:]
		}
		rec.off, rec.n = int64(le.Uint64(at[:8])), int64(le.Uint32(at[8:]))
		hl := int64(len(head))
		if rec.off < 0 || rec.what > ofManifest || pos+hl+rec.n+16 > size {
			return hdr, recs, true
		}
		h.Reset()
		h.Write(head)
		if _, err := io.CopyN(h, br, rec.n); err != nil {
			return hdr, recs, true
		}
		if _, err := io.ReadFull(br, sum[:]); err != nil || h.Sum128().Bytes() != sum {
			return hdr, recs, true
		}
		rec.dataOff = pos + hl
		recs = append(recs, rec)
		pos += hl + rec.n + 16
	}
}

// Recovery says what Recover did.
type Recovery struct {
	// Finished: the interrupted copy had written its manifest; only the
	// journal was left to remove.
	Finished bool
	// RolledBack counts the ranges restored to the last complete
	// generation, Generation.
	RolledBack int
	Generation int64
}

func (r *Recovery) String() string {
	if r.Finished {
		return fmt.Sprintf("the interrupted copy of generation %d had finished", r.Generation)
	}
	return fmt.Sprintf("rolled an interrupted copy back to generation %d (%d ranges restored)", r.Generation, r.RolledBack)
}

// Recover finishes or rolls back an interrupted copy; nil when there was
// none. After it the target holds its manifest's generation.
func (t Target) Recover(ctx context.Context) (*Recovery, error) {
	jf, err := t.Host.OpenFile(ctx, t.Journal, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer jf.Close()
	size, err := jf.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	hdr, recs, headerOK := readJournal(jf, size)
	// The header alone: the sums may be half rolled forward.
	m, err := t.loadHeader(ctx)
	if err != nil {
		return nil, err
	}
	rec := &Recovery{Generation: hdr.From}
	if m != nil && headerOK && m.Generation >= hdr.To {
		rec.Finished, rec.Generation = true, m.Generation
		return rec, t.Host.Remove(ctx, t.Journal)
	}
	if len(recs) > 0 {
		if err := t.rollBack(ctx, jf, recs); err != nil {
			return nil, err
		}
		rec.RolledBack = len(recs)
	}
	if m != nil {
		if m, err = t.LoadManifest(ctx); err != nil {
			return nil, err
		}
		// The rollback wrote the file: record its identity as it is now.
		f, err := t.Host.OpenFile(ctx, t.Path, os.O_RDONLY, 0)
		if err != nil {
			return nil, err
		}
		id, err := t.identity(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		m.Identity = id
		if err := t.SaveManifest(ctx, m); err != nil {
			return nil, err
		}
		rec.Generation = m.Generation
	}
	return rec, t.Host.Remove(ctx, t.Journal)
}

// rollBack writes the saved bytes back, last record first, so that a range
// saved twice ends with its oldest content.
func (t Target) rollBack(ctx context.Context, jf host.File, recs []record) error {
	paths := [2]string{t.Path, t.Manifest}
	var files [2]host.File
	for what, path := range paths {
		if !slices.ContainsFunc(recs, func(r record) bool { return r.what == byte(what) }) {
			continue
		}
		f, err := t.Host.OpenFile(ctx, path, os.O_RDWR, 0)
		if what == int(ofManifest) && errors.Is(err, fs.ErrNotExist) {
			// Nothing to restore the sums of: the next copy is a full one.
			continue
		}
		if err != nil {
			return fmt.Errorf("rolling back %s: %w", path, err)
		}
		defer f.Close()
		files[what] = f
	}
	var buf []byte
	for i := len(recs) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := recs[i]
		if files[r.what] == nil {
			continue
		}
		if int64(cap(buf)) < r.n {
			buf = make([]byte, r.n)
		}
		b := buf[:r.n]
		if _, err := jf.ReadAt(b, r.dataOff); err != nil {
			return fmt.Errorf("reading the undo journal %s: %w", t.Journal, err)
		}
		if _, err := files[r.what].WriteAt(b, r.off); err != nil {
			return fmt.Errorf("rolling back %s: %w", paths[r.what], err)
		}
	}
	for what, f := range files {
		if f == nil {
			continue
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("rolling back %s: %w", paths[what], err)
		}
	}
	return nil
}
