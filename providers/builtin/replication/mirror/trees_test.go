package mirror

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestOddNames(t *testing.T) {
	e := newEnv(t)
	names := []string{
		"été/ünïcödé 文件.txt", "with space", " leading space", "trailing space ", "-dash", "--", "new\nline",
		"tab\there", "back\\slash", "quote\"s", "star*", "question?", "[brackets]", "{braces}", "#hash", "%percent",
		"emoji 🚀", "\x01control", strings.Repeat("n", 255), "a.drover-tmp", ".hidden", "..dots",
	}
	for i, n := range names {
		write(t, e.src(n), fmt.Sprint(i), t0)
	}
	m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true})
	e.sync(m)
	same(t, e.src(), e.dst())
	if got := e.sync(m); len(got) != 0 {
		t.Errorf("second plan: %v", got)
	}
}

func TestDeepTree(t *testing.T) {
	e := newEnv(t)
	var p []string
	for i := range 120 {
		p = append(p, fmt.Sprintf("d%03d", i))
		if i%10 == 0 {
			write(t, e.src(append(p, "f")...), strings.Join(p, "/"), t0)
		}
	}
	m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true})
	e.sync(m)
	same(t, e.src(), e.dst())
	os.RemoveAll(e.src(p[:60]...))
	e.sync(m)
	same(t, e.src(), e.dst())
}

func TestRenameStorm(t *testing.T) {
	e := newEnv(t)
	const n = 1500
	for i := range n {
		write(t, e.src(fmt.Sprintf("d%d/f%d", i%15, i)), fmt.Sprint("content ", i), t0)
	}
	m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true})
	e.sync(m)
	rng := rand.New(rand.NewPCG(1, 2))
	// Files move between folders, swap names, folders are renamed.
	for i := range n {
		if rng.IntN(2) == 0 {
			continue
		}
		from := e.src(fmt.Sprintf("d%d/f%d", i%15, i))
		to := e.src(fmt.Sprintf("d%d/g%d", rng.IntN(15), i))
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		os.Rename(e.src(fmt.Sprintf("d%d", i)), e.src(fmt.Sprintf("renamed%d", i)))
	}
	os.Rename(e.src("d5"), e.src("d6/inside"))
	e.sync(m)
	same(t, e.src(), e.dst())
}

func TestSparseFile(t *testing.T) {
	e := newEnv(t)
	os.MkdirAll(e.src(), 0o755)
	f, err := os.Create(e.src("disk.img"))
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 20
	for _, off := range []int64{0, 10 << 20, size - 4096} {
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xab}, 4096), off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	var st syscall.Stat_t
	syscall.Stat(e.src("disk.img"), &st)
	if st.Blocks*512 >= size/2 {
		t.Skip("the test file system does not keep holes")
	}
	m := e.mirror(Options{Preserve: PreserveAll})
	e.sync(m)
	same(t, e.src(), e.dst())
	syscall.Stat(e.dst("disk.img"), &st)
	if st.Blocks*512 > 1<<20 {
		t.Errorf("the copy takes %d bytes: its holes were filled", st.Blocks*512)
	}
}

// TestFileChangingWhileCopied appends to a file all through the mirror:
// the target holds an earlier whole state of it or none, never a torn one,
// and once the writer stops the next run makes them equal.
func TestFileChangingWhileCopied(t *testing.T) {
	e := newEnv(t)
	line := func(i int) string { return fmt.Sprintf("line %08d\n", i) }
	var all strings.Builder
	for i := range 200000 {
		all.WriteString(line(i))
	}
	write(t, e.src("log"), all.String(), time.Time{})
	write(t, e.src("other"), "steady", t0)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f, err := os.OpenFile(e.src("log"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for i := 200000; ctx.Err() == nil; i++ {
			f.WriteString(line(i))
		}
	}()
	m := e.mirror(Options{Preserve: PreserveAll, Parallel: 2})
	for range 3 {
		pl, err := m.Plan(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		rep, err := m.Apply(t.Context(), pl, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(e.dst("log"))
		if err == nil {
			lines := strings.Split(string(b), "\n")
			for i, l := range lines[:len(lines)-1] {
				if l+"\n" != line(i) {
					t.Fatalf("the target's log is torn at line %d: %q", i, l)
				}
			}
			if lines[len(lines)-1] != "" {
				t.Fatalf("the target's log ends mid-line: %q", lines[len(lines)-1])
			}
		} else if len(rep.Retry) == 0 {
			t.Fatalf("no log on the target and none to retry: %v", err)
		}
	}
	cancel()
	wg.Wait()
	e.sync(m)
	same(t, e.src(), e.dst())
}

// TestCancelLeavesNothingHalfWritten stops applies at random moments:
// every target file is whole (old or new), no temp file stays.
func TestCancelLeavesNothingHalfWritten(t *testing.T) {
	e := newEnv(t)
	for i := range 300 {
		write(t, e.src(fmt.Sprintf("f%03d", i)), strings.Repeat(fmt.Sprint(i), 20000), t0)
	}
	m := e.mirror(Options{Preserve: PreserveAll, DeleteOrphans: true})
	for _, after := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
		pl, err := m.Plan(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), after)
		m.Apply(ctx, pl, nil)
		cancel()
		entries, _ := os.ReadDir(e.dst())
		for _, d := range entries {
			if strings.HasSuffix(d.Name(), ".drover-tmp") {
				t.Errorf("temp file left after a cancel at %v: %s", after, d.Name())
				continue
			}
			if !d.Type().IsRegular() {
				continue
			}
			b, _ := os.ReadFile(e.dst(d.Name()))
			want, _ := os.ReadFile(e.src(d.Name()))
			if !bytes.Equal(b, want) {
				t.Errorf("%s is half-written after a cancel at %v", d.Name(), after)
			}
		}
	}
	e.sync(m)
	same(t, e.src(), e.dst())
	_ = filepath.Join
}
