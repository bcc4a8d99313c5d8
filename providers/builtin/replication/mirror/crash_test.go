package mirror

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/blocks"
)

// failingAfter is a source that fails once read past an offset: a copy
// reading it stops there, as a process killed mid-copy does, its undo
// journal open and the target part written.
type failingAfter struct {
	r  io.ReaderAt
	at int64
}

var errKilled = errors.New("killed")

func (f failingAfter) ReadAt(b []byte, off int64) (int, error) {
	if off >= f.at {
		return 0, errKilled
	}
	return f.r.ReadAt(b, off)
}

// TestLargeFileUpdateKilled: an update in place killed between the block
// engine's writes and the mirror's own bookkeeping (the replica's time,
// its manifest's identity) leaves a replica part written, its journal
// open, its time that of its last write. Over SFTP times have whole
// seconds, so a write in the second the source changed gives the
// replica the source's very time: neither that time nor the one a
// rollback leaves may pass for the new version.
func TestLargeFileUpdateKilled(t *testing.T) {
	const size = 16 << 20
	for _, tc := range []struct {
		name string
		// rollBack rolls the replica back before the next mirror, as
		// a refresh does when the source cannot be mirrored.
		rollBack bool
	}{{"next mirror", false}, {"rolled back first", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			version := func(v byte) time.Time {
				mtime := t0.Add(time.Duration(v) * time.Minute)
				write(t, e.src("db.img"), strings.Repeat(string(rune(v)), size), mtime)
				return mtime
			}
			version(1)
			m := e.mirror(Options{Preserve: PreserveAll, BlockThreshold: 1 << 20})
			e.sync(m)
			held := version(2)
			e.sync(m)
			old, _ := os.ReadFile(e.dst("db.img"))
			latest := version(3)

			src, err := os.Open(e.src("db.img"))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			target := blocks.Target{Host: e.fs2, Path: "/replica/set/db.img",
				Manifest: "/replica/set/.db.img.drover-blocks", Journal: "/replica/set/.db.img.drover-journal"}
			if _, err := blocks.Copy(t.Context(), failingAfter{src, size / 2}, target, blocks.Options{Size: size}); !errors.Is(err, errKilled) {
				t.Fatalf("the killed copy: %v", err)
			}
			if got, _ := os.ReadFile(e.dst("db.img")); bytes.Equal(got, old) {
				t.Fatal("the killed copy wrote nothing; the test proves nothing")
			}
			// Its last write in the second the source changed.
			if err := os.Chtimes(e.dst("db.img"), latest, latest); err != nil {
				t.Fatal(err)
			}

			if tc.rollBack {
				rolled, err := RollBackInterrupted(t.Context(), Endpoint{e.fs2, "/replica/set"})
				if err != nil || len(rolled) != 1 {
					t.Fatalf("rolled back %v: %v", rolled, err)
				}
				if got, _ := os.ReadFile(e.dst("db.img")); !bytes.Equal(got, old) {
					t.Fatal("the rollback did not give the replica back the version it held")
				}
				if fi, _ := os.Stat(e.dst("db.img")); !fi.ModTime().Equal(held) {
					t.Errorf("the rolled-back replica has the time %v, not the %v of the version it holds", fi.ModTime(), held)
				}
			}

			if got := joinLines(e.sync(m)); !strings.Contains(got, "~ db.img (") {
				t.Errorf("plan:\n%s\nwant the replica updated", got)
			}
			same(t, e.src(), e.dst())
		})
	}
}
