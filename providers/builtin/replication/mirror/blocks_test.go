package mirror

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLargeFilesByChangedBlocks: a large file whose size stays is updated
// in place through the block engine, and only its changed blocks are
// written: a block corrupted on the target behind the manifest's back (the
// time put back) survives an update of another block, and only a
// comparison by content finds it.
func TestLargeFilesByChangedBlocks(t *testing.T) {
	e := newEnv(t)
	data := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	put := func(b []byte, mtime time.Time) {
		t.Helper()
		write(t, e.src("disk.img"), string(b), mtime)
	}
	put(data, t0)
	opts := Options{Preserve: PreserveAll, DeleteOrphans: true, BlockThreshold: 1 << 20}
	m := e.mirror(opts)
	e.sync(m)
	same(t, e.src(), e.dst())
	ino := func() uint64 {
		var st syscall.Stat_t
		if err := syscall.Stat(e.dst("disk.img"), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}

	// The first update of an existing copy writes every block and records
	// the manifest; later ones only what changed.
	copy(data[1<<20:], bytes.Repeat([]byte("A"), 100))
	put(data, t0.Add(time.Minute))
	first := ino()
	e.sync(m)
	same(t, e.src(), e.dst())
	if ino() != first {
		t.Error("the large file was replaced, not updated in place")
	}
	if _, err := os.Stat(e.dst(".disk.img.drover-blocks")); err != nil {
		t.Fatalf("no block manifest beside the file: %v", err)
	}

	f, err := os.OpenFile(e.dst("disk.img"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte("X"), 16<<10), 3<<20)
	f.Close()
	os.Chtimes(e.dst("disk.img"), t0.Add(time.Minute), t0.Add(time.Minute))

	copy(data[2<<20:], bytes.Repeat([]byte("B"), 100))
	put(data, t0.Add(2*time.Minute))
	if got := e.sync(m); !strings.Contains(joinLines(got), "~ disk.img (mtime)") {
		t.Errorf("plan: %v", got)
	}
	b, _ := os.ReadFile(e.dst("disk.img"))
	if !bytes.Equal(b[2<<20:2<<20+100], data[2<<20:2<<20+100]) {
		t.Error("the changed block was not written")
	}
	if !bytes.Equal(b[3<<20:3<<20+16], []byte("XXXXXXXXXXXXXXXX")) {
		t.Error("an unchanged block was rewritten: the update was not by changed blocks")
	}
	mc := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true, Checksum: true, BlockThreshold: 1 << 20})
	pl, err := mc.Plan(t.Context())
	if err != nil || joinLines(lines(pl)) != "~ disk.img (content)" {
		t.Fatalf("a comparison by content: %v %v", lines(pl), err)
	}
	if _, err := mc.Apply(t.Context(), pl, nil); err != nil {
		t.Fatal(err)
	}
	same(t, e.src(), e.dst())

	// A size change replaces the file whole and drops its block records.
	put(append(data, 'z'), t0.Add(3*time.Minute))
	e.sync(m)
	same(t, e.src(), e.dst())
	for _, side := range []string{".disk.img.drover-blocks", ".disk.img.drover-journal"} {
		if _, err := os.Stat(e.dst(side)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s stays after the file was replaced: %v", side, err)
		}
	}

	// Block records go with their file, and a source's are never copied.
	put(append(data, 'z'), t0.Add(4*time.Minute))
	e.sync(m)
	write(t, e.src(".other.drover-blocks"), "not ours to copy", t0)
	write(t, e.src("keep"), "keep", t0)
	os.Remove(e.src("disk.img"))
	got := e.sync(m)
	if !strings.Contains(joinLines(got), "- .disk.img.drover-blocks") {
		t.Errorf("plan: %v", got)
	}
	entries, _ := os.ReadDir(e.dst())
	if len(entries) != 1 || entries[0].Name() != "keep" {
		t.Errorf("on the target: %v", entries)
	}
}
