package ssh

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/agent"
	"github.com/drover-dr/drover/internal/sshtest"
)

// BenchmarkTransfer reads and writes a file of the machine (1 GiB unless
// -short) through SFTP and through the agent, as a drive copy does: 512 KiB
// reads and 4 MiB writes, four in flight. Random data does not compress;
// zeros (free space of an image) do.
func BenchmarkTransfer(b *testing.B) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	s := sshtest.Start(b)
	root := b.TempDir()
	random := make([]byte, 4<<20)
	rand.Read(random)
	zeros := make([]byte, 4<<20)
	for _, data := range []struct {
		name  string
		block []byte
	}{{"random", random}, {"zeros", zeros}} {
		src := filepath.Join(root, data.name)
		f, err := os.Create(src)
		if err != nil {
			b.Fatal(err)
		}
		for off := int64(0); off < size; off += int64(len(data.block)) {
			f.Write(data.block)
		}
		f.Close()
		for _, via := range []string{"sftp", "agent"} {
			opts := options(s, "fs1")
			opts.Root = root
			h, err := New(context.Background(), opts)
			if err != nil {
				b.Fatal(err)
			}
			if via == "sftp" {
				withoutAgent(h)
			} else if err := host.CanCall(context.Background(), h); err != nil {
				b.Fatal(err)
			}
			b.Run(data.name+"/"+via+"/read", func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					transfer(b, h, "/"+data.name, size, 512<<10, func(f host.File, buf []byte, off int64) error {
						_, err := f.ReadAt(buf, off)
						return err
					})
				}
			})
			b.Run(data.name+"/"+via+"/write", func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					transfer(b, h, "/"+data.name+".copy", size, 4<<20, func(f host.File, buf []byte, off int64) error {
						copy(buf, data.block)
						_, err := f.WriteAt(buf, off)
						return err
					})
				}
			})
			h.Close()
			os.Remove(src + ".copy")
		}
		os.Remove(src)
	}
}

// BenchmarkCopyBetweenAgents copies a file of random data (256 MiB, 64
// MiB if -short) between two machines' agents as a mirror copies a large
// file: io.CopyN of 16 MiB chunks from the source's file to a new file of
// the target, every byte through this process.
func BenchmarkCopyBetweenAgents(b *testing.B) {
	size := int64(256 << 20)
	if testing.Short() {
		size = 64 << 20
	}
	s := sshtest.Start(b)
	root := b.TempDir()
	block := make([]byte, 4<<20)
	rand.Read(block)
	f, err := os.Create(filepath.Join(root, "src"))
	if err != nil {
		b.Fatal(err)
	}
	for off := int64(0); off < size; off += int64(len(block)) {
		f.Write(block)
	}
	f.Close()
	var hosts [2]*Host
	for i, name := range []string{"fs1", "fs2"} {
		opts := options(s, name)
		opts.Root = root
		if hosts[i], err = New(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
		defer hosts[i].Close()
		if err := host.CanCall(context.Background(), hosts[i]); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.SetBytes(size)
	for b.Loop() {
		in, err := hosts[0].Open(ctx, "/src")
		if err != nil {
			b.Fatal(err)
		}
		out, err := hosts[1].OpenFile(ctx, "/dst", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		for left := size; left > 0; left -= 16 << 20 {
			if _, err := io.CopyN(out, in, min(left, 16<<20)); err != nil {
				b.Fatal(err)
			}
		}
		in.Close()
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// transfer runs op on every chunk of a file of size bytes, four at once.
func transfer(b *testing.B, h *Host, p string, size int64, chunk int, op func(f host.File, buf []byte, off int64) error) {
	f, err := h.OpenFile(context.Background(), p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	offs := make(chan int64)
	var wg sync.WaitGroup
	var once sync.Once
	for range 4 {
		wg.Go(func() {
			buf := make([]byte, chunk)
			for off := range offs {
				if err := op(f, buf, off); err != nil {
					once.Do(func() { b.Error(err) })
				}
			}
		})
	}
	for off := int64(0); off < size; off += int64(chunk) {
		offs <- off
	}
	close(offs)
	wg.Wait()
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAgentConnect measures what a provider process pays to reach
// a machine's cached agent: the SSH handshake, the agent's start (an exec
// request: a process on the machine) and its handshake, with the sum of
// its executable recorded beside it, and read from the file (the record
// removed first), as every start did before there was a record. The two
// take turns, so that both see the same load: each reported in ms, the
// mean and the best.
func BenchmarkAgentConnect(b *testing.B) {
	s := sshtest.Start(b)
	opts := options(s, "fs1")
	ctx := context.Background()
	connect := func() time.Duration {
		start := time.Now()
		h, err := New(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		if err := host.CanCall(ctx, h); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	connect() // uploads the agent
	prog, err := agent.Program()
	if err != nil {
		b.Fatal(err)
	}
	record := filepath.Join(opts.AgentCache, prog.SHA256, "drover.sum")
	var total, best [2]time.Duration
	best = [2]time.Duration{time.Hour, time.Hour}
	n := 0
	for b.Loop() {
		for i, recorded := range []bool{true, false} {
			if !recorded {
				os.Remove(record)
			}
			d := connect()
			total[i] += d
			best[i] = min(best[i], d)
		}
		n++
	}
	for i, name := range []string{"recorded", "read"} {
		b.ReportMetric(float64(total[i].Milliseconds())/float64(n), name+"-ms/op")
		b.ReportMetric(float64(best[i].Milliseconds()), name+"-best-ms")
	}
}
