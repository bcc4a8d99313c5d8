package blocks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
)

var blockSizes = []int64{4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20}

// BenchmarkHash measures hashing one block of each size.
func BenchmarkHash(b *testing.B) {
	for _, bs := range blockSizes {
		b.Run(fmt.Sprintf("block=%dK", bs>>10), func(b *testing.B) {
			buf := make([]byte, 4<<20)
			for i := range buf {
				buf[i] = byte(i * 7)
			}
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				for off := int64(0); off < int64(len(buf)); off += bs {
					HashBlock(buf[off : off+bs])
				}
			}
		})
	}
}

// BenchmarkCopyIncremental measures an incremental copy of a 256 MiB
// image of which 1% changed in scattered 64 KiB regions (not aligned to
// blocks), per block size. MB/s is of the source read; write-amp is the
// bytes written per byte changed, journal not counted (it holds as much
// again): 1.06, the 4 KiB pieces an unaligned 64 KiB region touches,
// whatever the block size.
func BenchmarkCopyIncremental(b *testing.B) {
	const size = 256 << 20
	dir := b.TempDir()
	src := filepath.Join(dir, "src.img")
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < size; i += 8 {
		v := rng.Uint64()
		for k := range 8 {
			data[i+k] = byte(v >> (8 * k))
		}
	}
	if err := os.WriteFile(src, data, 0o600); err != nil {
		b.Fatal(err)
	}
	h := host.NewLocal("bench", "")
	var seed uint64
	for _, bs := range blockSizes {
		b.Run(fmt.Sprintf("block=%dK", bs>>10), func(b *testing.B) {
			t := Beside(h, filepath.Join(dir, fmt.Sprintf("dst-%d.img", bs)))
			if err := os.WriteFile(t.Path, nil, 0o600); err != nil {
				b.Fatal(err)
			}
			os.Truncate(t.Path, size)
			copyOnce := func() *Result {
				f, err := os.Open(src)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				res, err := Copy(context.Background(), f, t, Options{Size: size, BlockSize: bs})
				if err != nil {
					b.Fatal(err)
				}
				return res
			}
			copyOnce()
			var written, changed int64
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				seed++
				changed += scribbleFile(b, src, seed, size/100, 64<<10)
				b.StartTimer()
				written += copyOnce().BytesChanged
			}
			b.ReportMetric(float64(written)/float64(changed), "write-amp")
		})
	}
}

// scribbleFile rewrites regions of n bytes in path until total bytes
// changed, returning how many.
func scribbleFile(b *testing.B, path string, seed uint64, total, n int64) int64 {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	rng := rand.New(rand.NewPCG(seed, 3))
	buf := make([]byte, n)
	var done int64
	for done < total {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(buf, rng.Int64N(fi.Size()-n)); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	return done
}
