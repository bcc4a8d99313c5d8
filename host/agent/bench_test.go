package agent

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// BenchmarkReadAt reads a file of random data through the agent in this
// process, over pipes: the cost of the protocol alone, without SSH.
func BenchmarkReadAt(b *testing.B) {
	const size = 256 << 20
	root := b.TempDir()
	data := make([]byte, size)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(root, "f"), data, 0o600); err != nil {
		b.Fatal(err)
	}
	c, _ := serveCounted(b)
	f, err := c.OpenFile(context.Background(), Scope{Name: "fs1", Root: root}, "/f", os.O_RDONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(size)
	for b.Loop() {
		offs := make(chan int64)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				buf := make([]byte, 512<<10)
				for off := range offs {
					f.ReadAt(buf, off)
				}
			})
		}
		for off := int64(0); off < size; off += 512 << 10 {
			offs <- off
		}
		close(offs)
		wg.Wait()
	}
}
