package blocks

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/internal/sshtest"
)

// BenchmarkCopyOverSSH measures an incremental copy of a 1 GiB image
// (1% changed in scattered 64 KiB regions) on a host reached through a
// real sshd on 127.0.0.1: without ops, every byte crosses SFTP to be
// hashed here; with them (the op run by an in-process stand-in for the
// agent, through its wire encoding), only the changed blocks do. MB/s is
// of the source.
func BenchmarkCopyOverSSH(b *testing.B) {
	const size = 1 << 30
	s := sshtest.Start(b)
	root := b.TempDir()
	ctx := context.Background()
	sh, err := ssh.New(ctx, ssh.Options{Name: "fs1", Address: s.Addr, User: s.User, IdentityFile: s.Identity, KnownHosts: s.KnownHosts, Root: root})
	if err != nil {
		b.Fatal(err)
	}
	defer sh.Close()
	src := filepath.Join(root, "src.img")
	if err := os.WriteFile(src, make([]byte, size), 0o600); err != nil {
		b.Fatal(err)
	}
	scribbleFile(b, src, 1, size, 1<<20)
	var seed uint64
	for _, tc := range []struct {
		name string
		h    host.Host
	}{
		{"agent", newWithAgent(transport{Host: sh}, host.NewLocal("agent", root))},
		{"sftp", sh},
	} {
		b.Run(tc.name, func(b *testing.B) {
			target := Beside(tc.h, "/dst-"+tc.name+".img")
			if err := os.WriteFile(filepath.Join(root, target.Path), nil, 0o600); err != nil {
				b.Fatal(err)
			}
			os.Truncate(filepath.Join(root, target.Path), size)
			copyOnce := func() {
				f, err := tc.h.OpenFile(ctx, "/src.img", os.O_RDONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				if _, err := Copy(ctx, f, target, Options{Size: size, Source: &HostPath{Host: tc.h, Path: "/src.img"}}); err != nil {
					b.Fatal(err)
				}
			}
			copyOnce()
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				seed++
				scribbleFile(b, src, seed, size/100, 64<<10)
				b.StartTimer()
				copyOnce()
			}
		})
	}
}
