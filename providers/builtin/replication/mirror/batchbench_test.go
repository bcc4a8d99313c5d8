package mirror

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
)

// BenchmarkBatchOps runs the ops mirror.read and mirror.write on a local
// host, as the agents of both machines run them: a batch of 64 files of
// 2 KiB read in one folder and written into another (over the files the
// run before wrote; "write-new": into a new folder each run, as a first
// sync does); "call" runs them through host.Call and an agent's RunOp,
// encoding and decoding their requests and responses as they cross
// between machines. Per file: ns/op / 64.
func BenchmarkBatchOps(b *testing.B) {
	dir := b.TempDir()
	const files = 64
	rreq := ReadRequest{Dir: "/src"}
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range files {
		name := fmt.Sprintf("f%03d", i)
		if err := os.WriteFile(filepath.Join(dir, "src", name), make([]byte, 2048), 0o644); err != nil {
			b.Fatal(err)
		}
		rreq.Names = append(rreq.Names, name)
	}
	h := host.NewLocal("fs", dir)
	defer h.Close()
	read, err := readOnMachine(b.Context(), h, rreq)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := readOnMachine(b.Context(), h, rreq); err != nil {
				b.Fatal(err)
			}
		}
	})
	wreq := WriteRequest{Dir: "/dst", Preserve: PreserveAll}
	for i, f := range read.Files {
		wreq.Files = append(wreq.Files, WriteFile{Name: rreq.Names[i], data: f.data, Src: f.Stat})
	}
	if err := os.MkdirAll(filepath.Join(dir, "dst"), 0o755); err != nil {
		b.Fatal(err)
	}
	b.Run("write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := writeOnMachine(b.Context(), h, wreq)
			if err != nil {
				b.Fatal(err)
			}
			if err := resp.Results[0].err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	// As in a first sync: every name new, in a folder made for the batch.
	b.Run("write-new", func(b *testing.B) {
		b.ReportAllocs()
		req := wreq
		for i := 0; b.Loop(); i++ {
			req.Dir = fmt.Sprintf("/new/%d", i)
			if err := os.MkdirAll(filepath.Join(dir, req.Dir), 0o755); err != nil {
				b.Fatal(err)
			}
			resp, err := writeOnMachine(b.Context(), h, req)
			if err != nil {
				b.Fatal(err)
			}
			if err := resp.Results[0].err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	a := newAgent(h)
	b.Run("call/read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := host.Call[ReadRequest, ReadResponse](b.Context(), a, readOp, rreq); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("call/write", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := host.Call[WriteRequest, WriteResponse](b.Context(), a, writeOp, wreq)
			if err != nil {
				b.Fatal(err)
			}
			if err := resp.Results[0].err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
