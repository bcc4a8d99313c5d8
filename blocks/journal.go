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

	"github.com/drover-dr/drover/host"
	"github.com/zeebo/xxh3"
)

// The undo journal holds the old content of every block a copy overwrites
// in a complete generation. Each batch of records is synced before the
// blocks it saves are overwritten, so after a crash every overwritten
// block has an intact record; a torn record at the end belongs to a batch
// whose overwrites never started.
//
// Layout: a magic line, a JSON header line, then records of
// offset (8 bytes), length (4), the old bytes, and an xxh3-128 of the three.
const journalMagic = "DROVER-JOURNAL 1\n"

type journalHeader struct {
	From   int64  `json:"from"` // the complete generation the target held
	To     int64  `json:"to"`   // the generation being written
	Target string `json:"target"`
}

type journal struct {
	f   host.File
	off int64
	buf []byte
}

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

// add queues the old content of the target at off.
func (j *journal) add(off int64, old []byte) {
	var head [12]byte
	le.PutUint64(head[:8], uint64(off))
	le.PutUint32(head[8:], uint32(len(old)))
	start := len(j.buf)
	j.buf = append(j.buf, head[:]...)
	j.buf = append(j.buf, old...)
	sum := xxh3.Hash128(j.buf[start:]).Bytes()
	j.buf = append(j.buf, sum[:]...)
}

// commit writes the queued records and syncs them: only then may the
// blocks they save be overwritten.
func (j *journal) commit() error {
	if len(j.buf) == 0 {
		return nil
	}
	if _, err := j.f.WriteAt(j.buf, j.off); err != nil {
		return fmt.Errorf("writing the undo journal: %w", err)
	}
	j.off += int64(len(j.buf))
	j.buf = j.buf[:0]
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("syncing the undo journal: %w", err)
	}
	return nil
}

func (j *journal) close() error { return j.f.Close() }

// record is where one intact record's old bytes lie in the journal.
type record struct {
	off     int64 // in the target
	n       int64
	dataOff int64 // in the journal
}

// readJournal reads the header and the intact records of a journal.
// headerOK is false when the header itself is torn: nothing was
// overwritten yet.
func readJournal(r io.ReaderAt, size int64) (hdr journalHeader, recs []record, headerOK bool) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<20)
	magic := make([]byte, len(journalMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != journalMagic {
		return hdr, nil, false
	}
	line, err := br.ReadBytes('\n')
	if err != nil {
		return hdr, nil, false
	}
	if err := json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &hdr); err != nil {
		return hdr, nil, false
	}
	pos := int64(len(journalMagic) + len(line))
	h := xxh3.New()
	var head [12]byte
	var sum [16]byte
	for {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			return hdr, recs, true
		}
		off, n := int64(le.Uint64(head[:8])), int64(le.Uint32(head[8:]))
		if off < 0 || pos+12+n+16 > size {
			return hdr, recs, true
		}
		h.Reset()
		h.Write(head[:])
		if _, err := io.CopyN(h, br, n); err != nil {
			return hdr, recs, true
		}
		if _, err := io.ReadFull(br, sum[:]); err != nil || h.Sum128().Bytes() != sum {
			return hdr, recs, true
		}
		recs = append(recs, record{off: off, n: n, dataOff: pos + 12})
		pos += 12 + n + 16
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
	m, err := t.LoadManifest(ctx)
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

// rollBack writes the saved bytes back, last record first, so that a block
// saved twice ends with its oldest content.
func (t Target) rollBack(ctx context.Context, jf host.File, recs []record) error {
	f, err := t.Host.OpenFile(ctx, t.Path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("rolling back %s: %w", t.Path, err)
	}
	defer f.Close()
	var buf []byte
	for i := len(recs) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := recs[i]
		if int64(cap(buf)) < r.n {
			buf = make([]byte, r.n)
		}
		b := buf[:r.n]
		if _, err := jf.ReadAt(b, r.dataOff); err != nil {
			return fmt.Errorf("reading the undo journal %s: %w", t.Journal, err)
		}
		if _, err := f.WriteAt(b, r.off); err != nil {
			return fmt.Errorf("rolling back %s: %w", t.Path, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("rolling back %s: %w", t.Path, err)
	}
	return nil
}
