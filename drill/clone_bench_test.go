package drill

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkClone clones an image of DROVER_BENCH_CLONE_MIB MiB (4096 by
// default) of random data, on xfs with reflinks made on a loop device, the
// drill's way (Inventory.Clone, journalling included) and with cp, by
// reflink and in full. bench/drill.sh runs it.
func BenchmarkClone(b *testing.B) {
	mib := 4096
	if s := os.Getenv("DROVER_BENCH_CLONE_MIB"); s != "" {
		var err error
		if mib, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	xfs := fsOnLoopSized(b, int64(mib)*2+512, "mkfs.xfs", "-q", "-m", "reflink=1")
	src := filepath.Join(xfs, "srv", "dpsr.img")
	os.MkdirAll(filepath.Dir(src), 0o755)
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.NewChaCha8([32]byte{7})
	buf := make([]byte, 4<<20)
	for range mib / 4 {
		r.Read(buf)
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	run(b, "sync")
	dst := filepath.Join(xfs, "drill")
	b.Run("drill clone", func(b *testing.B) {
		for b.Loop() {
			inv, err := OpenInventory(ctx, machine, b.TempDir(), InventoryOptions{})
			if err != nil {
				b.Fatal(err)
			}
			c, err := inv.Clone(ctx, machine, src, dst, CloneOptions{Disk: true})
			if err != nil || c.Method != Reflink {
				b.Fatalf("%v, %v", c, err)
			}
			b.StopTimer()
			if err := inv.Teardown(ctx); err != nil {
				b.Fatal(err)
			}
			inv.Close()
			b.StartTimer()
		}
	})
	for _, cp := range []struct{ name, flag string }{{"cp --reflink=always", "--reflink=always"}, {"full copy (cp --reflink=never)", "--reflink=never"}} {
		b.Run(cp.name, func(b *testing.B) {
			for b.Loop() {
				run(b, "cp", cp.flag, src, dst)
				// Durable, as the drill's clone is.
				run(b, "sync", "--file-system", dst)
				b.StopTimer()
				os.Remove(dst)
				run(b, "sync", "--file-system", xfs)
				b.StartTimer()
			}
		})
	}
}
