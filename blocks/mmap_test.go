//go:build linux

package blocks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"golang.org/x/sys/unix"
)

// TestShrinkingSourceWhileMapped: a source that is truncated while its
// mapping is hashed faults: the fault is the error errShrunk, not a
// crash.
func TestShrinkingSourceWhileMapped(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, testSize)
	src, err := f.h.OpenFile(ctx, f.src, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	m := mapSource(src, testSize)
	if m == nil {
		t.Fatal("a local regular file is not mapped")
	}
	c, err := newScanner(Options{Size: testSize})
	if err != nil {
		t.Fatal(err)
	}
	defer c.release()
	var once sync.Once
	_, err = c.hashRanges(ctx, input{r: src, m: m}, c.ranges, "sums", 0, func(ch *chunk) bool {
		once.Do(func() {
			if err := os.Truncate(f.src, 0); err != nil {
				t.Error(err)
			}
		})
		return false
	}, nil)
	if !errors.Is(err, errShrunk) {
		t.Fatalf("hashing a source truncated during the hash: err = %v, want %v", err, errShrunk)
	}
}

// BenchmarkHashSource compares the two ways the sums op hashes a local
// file held in the page cache: read into the readers' buffers, or
// through mappings of it (what it does). cpu-ms/op is the CPU time of
// the process (user and system), sys-ms/op the kernel's share of it,
// where the read copies the pages.
func BenchmarkHashSource(b *testing.B) {
	const size = 1 << 30
	path := filepath.Join(b.TempDir(), "src.img")
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	for range size / len(buf) {
		if _, err := out.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	src, err := host.NewLocal("bench", "").OpenFile(ctx, path, os.O_RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	for _, tc := range []struct {
		name string
		in   input
	}{
		{"read", input{r: src}},
		{"mapped", input{r: src, m: mapSource(src, size)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, err := newScanner(Options{Size: size})
			if err != nil {
				b.Fatal(err)
			}
			defer c.release()
			var before, after unix.Rusage
			unix.Getrusage(unix.RUSAGE_SELF, &before)
			b.SetBytes(size)
			for b.Loop() {
				if _, err := c.hashRanges(ctx, tc.in, c.ranges, "sums", 0, func(*chunk) bool { return false }, nil); err != nil {
					b.Fatal(err)
				}
			}
			unix.Getrusage(unix.RUSAGE_SELF, &after)
			sys := time.Duration(after.Stime.Nano() - before.Stime.Nano())
			user := time.Duration(after.Utime.Nano() - before.Utime.Nano())
			b.ReportMetric(float64((sys+user).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(sys.Milliseconds())/float64(b.N), "sys-ms/op")
		})
	}
}
