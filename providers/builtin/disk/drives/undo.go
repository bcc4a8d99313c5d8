package drives

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/zeebo/xxh3"
)

// An undo file keeps what a partition restore overwrote, so that it can be
// put back. Each record is synced before the bytes it saves are
// overwritten: after a crash every overwritten range has an intact record,
// and a torn record at the end belongs to a write that never started.
//
// Layout: the magic line, a JSON header line, then records of offset (8
// bytes), length (4), the old bytes, and an xxh3-128 of the three.
const undoMagic = "DROVER-RESTORE-UNDO 1\n"

// UndoHeader says what an undo file puts back.
type UndoHeader struct {
	// Target is the drive (as the host names it) the records belong to,
	// and Start and Size the range of it that the restore wrote.
	Target string `json:"target"`
	Start  int64  `json:"start"`
	Size   int64  `json:"size"`
	// What the restore wrote, for people.
	Restore string `json:"restore"`
}

// Undo is an undo file being written.
type Undo struct {
	f   host.File
	off int64
}

// CreateUndo makes the undo file p on h, which must not exist yet.
func CreateUndo(ctx context.Context, h host.Host, p string, hdr UndoHeader) (*Undo, error) {
	if err := h.MkdirAll(ctx, path.Dir(p), 0o700); err != nil {
		return nil, err
	}
	f, err := h.OpenFile(ctx, p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	head, _ := json.Marshal(hdr)
	b := append(append([]byte(undoMagic), head...), '\n')
	if _, err := f.WriteAt(b, 0); err != nil {
		f.Close()
		return nil, err
	}
	// The first Save syncs the file; its name must last as long.
	if err := h.Sync(ctx, path.Dir(p)); err != nil {
		f.Close()
		return nil, err
	}
	return &Undo{f: f, off: int64(len(b))}, nil
}

// Save keeps old, the bytes at off of the target, durably.
func (u *Undo) Save(off int64, old []byte) error {
	rec := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint64(nil, uint64(off)), uint32(len(old)))
	rec = append(rec, old...)
	sum := xxh3.Hash128(rec).Bytes()
	rec = append(rec, sum[:]...)
	if _, err := u.f.WriteAt(rec, u.off); err != nil {
		return err
	}
	u.off += int64(len(rec))
	return u.f.Sync()
}

// Close closes the undo file.
func (u *Undo) Close() error { return u.f.Close() }

func readUndoHeader(r *bufio.Reader, p string) (UndoHeader, int64, error) {
	var hdr UndoHeader
	magic, _ := r.ReadString('\n')
	line, err := r.ReadString('\n')
	if magic != undoMagic || err != nil || json.Unmarshal([]byte(strings.TrimSpace(line)), &hdr) != nil || hdr.Target == "" {
		return hdr, 0, fmt.Errorf("%s is not an undo file of drover drive restore", p)
	}
	return hdr, int64(len(magic) + len(line)), nil
}

// PutBack writes the records of the undo file p back over its target, the
// last saved first, and syncs the target. check, given the header first,
// may refuse (a target in use). It returns the header and the bytes
// written.
func PutBack(ctx context.Context, h host.Host, p string, check func(UndoHeader) error, progress func(done int64)) (UndoHeader, int64, error) {
	var hdr UndoHeader
	f, err := h.OpenFile(ctx, p, os.O_RDONLY, 0)
	if err != nil {
		return hdr, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 1<<20)
	hdr, at, err := readUndoHeader(r, p)
	if err != nil {
		return hdr, 0, err
	}
	if err := check(hdr); err != nil {
		return hdr, 0, err
	}
	// Records are checked in one pass and read again one at a time when
	// put back: an undo file can be as large as a partition.
	type record struct {
		off, at int64
		n       int
	}
	var recs []record
	for {
		var head [12]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			break // the end, or a record torn before its write started
		}
		n := binary.LittleEndian.Uint32(head[8:])
		rest := make([]byte, int(n)+16)
		if _, err := io.ReadFull(r, rest); err != nil {
			break
		}
		sum := xxh3.Hash128(append(head[:], rest[:n]...)).Bytes()
		if string(sum[:]) != string(rest[n:]) {
			break
		}
		recs = append(recs, record{off: int64(binary.LittleEndian.Uint64(head[:8])), at: at + 12, n: int(n)})
		at += 12 + int64(n) + 16
	}
	if len(recs) == 0 {
		return hdr, 0, errors.New("the undo file holds nothing to put back: the restore overwrote nothing")
	}
	dst, err := h.OpenFile(ctx, hdr.Target, os.O_RDWR, 0)
	if err != nil {
		return hdr, 0, err
	}
	defer dst.Close()
	var written int64
	// The last saved first: a range saved twice gets its oldest bytes.
	for i := len(recs) - 1; i >= 0; i-- {
		if err := ctx.Err(); err != nil {
			return hdr, written, err
		}
		old := make([]byte, recs[i].n)
		if _, err := f.ReadAt(old, recs[i].at); err != nil {
			return hdr, written, fmt.Errorf("reading %s: %w", p, err)
		}
		if _, err := dst.WriteAt(old, recs[i].off); err != nil {
			return hdr, written, fmt.Errorf("writing %s: %w", hdr.Target, err)
		}
		written += int64(len(old))
		if progress != nil {
			progress(written)
		}
	}
	if err := dst.Sync(); err != nil {
		return hdr, written, fmt.Errorf("syncing %s: %w", hdr.Target, err)
	}
	return hdr, written, nil
}
