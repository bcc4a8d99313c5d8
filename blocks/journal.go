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
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/plural"
	"github.com/zeebo/xxh3"
)

// The undo journal holds the old content of every range a copy overwrites
// in a complete generation, of the target and of its manifest's sums. Each
// batch of records is synced before the ranges it saves are overwritten,
// so after a crash every overwritten range has an intact record; a torn
// record at the end belongs to a batch whose overwrites never started.
//
// The journal file stays between copies, closed: removing a file of tens
// of megabytes (and making the next one) costs more than a small copy
// itself. A copy opens it by writing a header with a new nonce; its
// records follow at journalData, each checked with an xxh3-128 seeded with
// the nonce, so the records of earlier copies left behind them read as
// the end of the journal. A copy that finished writes a closed header. A
// journal that is there and not cleanly closed is an interrupted copy.
//
// Layout: a header of the magic line, the length of a JSON header (4
// bytes), the header, and an xxh3-128 of the three; then from journalData
// records of what (1 byte: the target or the manifest), offset (8 bytes),
// length (4), the old bytes, and the seeded xxh3-128 of the four.
// Journals of format 1, left by an interrupted copy of an older version,
// have a JSON header line and then records without what, all of the
// target, checked with an unseeded xxh3-128.
const (
	journalMagic   = "DROVER-JOURNAL 2\n"
	journalMagicV1 = "DROVER-JOURNAL 1\n"
	journalData    = 4 << 10
	// journalKeep: a journal that grew larger than this is removed when
	// its copy ends, not kept for the next.
	journalKeep = 256 << 20
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
	Nonce  uint64 `json:"nonce,omitempty"`
	// Open: a copy is under way (format 1 has no closed journals).
	Open bool `json:"open,omitempty"`
}

type journal struct {
	f     host.File
	hdr   journalHeader
	off   int64
	fresh bool // the file was made by this copy: its name is not durable yet
}

// openJournal opens the journal for a copy (making the file if there is
// none) and writes its header; the first commit makes it durable.
func openJournal(ctx context.Context, t Target, hdr journalHeader) (*journal, error) {
	fresh := true
	// Never through a symlink: whoever may write to the folder could
	// plant one leading to a file of theirs or to one they may not write.
	f, err := t.Host.OpenFile(ctx, t.Journal, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrExist) {
		fresh = false
		f, err = t.Host.OpenFile(ctx, t.Journal, os.O_RDWR|syscall.O_NOFOLLOW, 0)
	}
	if err != nil {
		return nil, err
	}
	hdr.Nonce, hdr.Open = rand.Uint64()|1, true
	j := &journal{f: f, hdr: hdr, off: journalData, fresh: fresh}
	if err := j.writeHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

func (j *journal) writeHeader() error {
	head, _ := json.Marshal(j.hdr)
	b := append([]byte(journalMagic), le.AppendUint32(nil, uint32(len(head)))...)
	b = append(b, head...)
	sum := xxh3.Hash128(b).Bytes()
	_, err := j.f.WriteAt(append(b, sum[:]...), 0)
	return err
}

// appendRecord appends to recs the record saving old, the bytes of what
// at off, for the journal whose nonce is nonce.
func appendRecord(recs []byte, nonce uint64, what byte, off int64, old []byte) []byte {
	start := len(recs)
	recs = append(recs, what)
	recs = le.AppendUint64(recs, uint64(off))
	recs = le.AppendUint32(recs, uint32(len(old)))
	recs = append(recs, old...)
	sum := xxh3.Hash128Seed(recs[start:], nonce).Bytes()
	return append(recs, sum[:]...)
}

// commit writes records and syncs them (with the header, and the file's
// name the first time): only then may the ranges they save be
// overwritten.
func (j *journal) commit(ctx context.Context, t Target, recs []byte) error {
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
	if j.fresh {
		if err := syncDir(ctx, t.Host, filepath.Dir(t.Journal)); err != nil {
			return fmt.Errorf("syncing the undo journal's folder: %w", err)
		}
		j.fresh = false
	}
	return nil
}

// end closes the journal once its copy is recorded in the manifest. The
// closed header needs no sync: a journal left open by a crash now is
// found finished by Recover. A journal grown large is removed instead.
func (j *journal) end(ctx context.Context, t Target) error {
	j.hdr.Open = false
	err := j.writeHeader()
	j.f.Close()
	if err != nil || j.off > journalKeep {
		return t.Host.Remove(ctx, t.Journal)
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
	if _, err := io.ReadFull(br, magic); err != nil {
		return hdr, nil, false
	}
	var pos int64
	var seed func(h *xxh3.Hasher128)
	switch string(magic) {
	case journalMagic:
		var n [4]byte
		if _, err := io.ReadFull(br, n[:]); err != nil || int64(le.Uint32(n[:]))+int64(len(magic))+4+16 > journalData {
			return hdr, nil, false
		}
		b := make([]byte, len(magic)+4+int(le.Uint32(n[:]))+16)
		copy(b, magic)
		copy(b[len(magic):], n[:])
		if _, err := io.ReadFull(br, b[len(magic)+4:]); err != nil {
			return hdr, nil, false
		}
		body := b[:len(b)-16]
		if xxh3.Hash128(body).Bytes() != [16]byte(b[len(b)-16:]) || json.Unmarshal(body[len(magic)+4:], &hdr) != nil || !hdr.Open {
			return hdr, nil, false
		}
		if _, err := br.Discard(journalData - len(b)); err != nil {
			return hdr, nil, true
		}
		pos = journalData
		seed = func(h *xxh3.Hasher128) { h.ResetSeed(hdr.Nonce) }
	case journalMagicV1:
		line, err := br.ReadBytes('\n')
		if err != nil || json.Unmarshal(bytes.TrimSuffix(line, []byte("\n")), &hdr) != nil {
			return hdr, nil, false
		}
		hdr.Open = true
		pos = int64(len(magic) + len(line))
		seed = func(h *xxh3.Hasher128) { h.Reset() }
	default:
		return hdr, nil, false
	}
	tagged := string(magic) == journalMagic
	h := xxh3.New128()
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
		seed(h)
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

// journalOpen says whether the journal file at path is there and not
// cleanly closed: a copy was interrupted.
func journalOpen(ctx context.Context, t Target) (bool, error) {
	f, err := t.Host.OpenFile(ctx, t.Journal, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	b := make([]byte, journalData)
	n, err := f.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return false, err
	}
	return !journalClosed(b[:n]), nil
}

// Interrupted says whether a copy to t was interrupted: its undo journal
// is there and not cleanly closed, the target may hold parts of two
// generations, and Recover must run before it is used. It reads the
// journal's header only.
func (t Target) Interrupted(ctx context.Context) (bool, error) { return journalOpen(ctx, t) }

// journalClosed says whether b starts with the intact header of a closed
// journal.
func journalClosed(b []byte) bool {
	if !bytes.HasPrefix(b, []byte(journalMagic)) || len(b) < len(journalMagic)+4 {
		return false
	}
	end := len(journalMagic) + 4 + int(le.Uint32(b[len(journalMagic):]))
	if end+16 > len(b) || xxh3.Hash128(b[:end]).Bytes() != [16]byte(b[end:end+16]) {
		return false
	}
	var hdr journalHeader
	return json.Unmarshal(b[len(journalMagic)+4:end], &hdr) == nil && !hdr.Open
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
	return fmt.Sprintf("rolled an interrupted copy back to generation %d (%s restored)", r.Generation, plural.Count(r.RolledBack, "range"))
}

// Recover finishes or rolls back an interrupted copy; nil when there was
// none. After it the target holds its manifest's generation.
func (t Target) Recover(ctx context.Context) (*Recovery, error) {
	jf, err := t.Host.OpenFile(ctx, t.Journal, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
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
	head := make([]byte, min(size, journalData))
	if _, err := jf.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	if journalClosed(head) {
		return nil, nil
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
		// The copy's writes, and the rollback's, gave the file the time of
		// now: it gets back the time it had with the generation it holds
		// again, so that what tells a file by size and time (a mirror's
		// replica) never takes it for the version the copy was writing.
		if len(recs) > 0 && m.Identity.ModTime != 0 {
			if err := t.Host.Chtimes(ctx, t.Path, time.Time{}, time.Unix(0, m.Identity.ModTime)); err != nil {
				return nil, fmt.Errorf("rolling back %s: %w", t.Path, err)
			}
		}
		// Its identity as it is now: the time as the host could set it.
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
