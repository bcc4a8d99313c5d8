package disk

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/host/ssh"
	"github.com/drover-dr/drover/internal/agenttest"
	"github.com/drover-dr/drover/internal/sshtest"
	"github.com/drover-dr/drover/providers/builtin/disk/drives"
)

func TestMain(m *testing.M) { agenttest.Main(m) }

// TestCopyOnSSHMachine copies a drive of an SSH host in the agent on its
// machine, with progress here; a connection closed in the middle of an
// update ends the copy there, leaving a target that rolls back to the
// last complete copy, and the next copy completes it.
func TestCopyOnSSHMachine(t *testing.T) {
	const size = 128 << 20
	s := sshtest.Start(t)
	root := t.TempDir()
	cfg := host.Config{Name: "fs2", Address: s.Addr, User: s.User, IdentityFile: s.Identity, KnownHosts: s.KnownHosts, Root: root}
	connect := func() *ssh.Host {
		t.Helper()
		h, err := ssh.New(context.Background(), ssh.Options{Name: cfg.Name, Address: cfg.Address, User: cfg.User,
			IdentityFile: cfg.IdentityFile, KnownHosts: cfg.KnownHosts, Root: root, AgentCache: filepath.Join(s.Dir, "agent-cache")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	first := randomFile(t, filepath.Join(root, "src.img"), size)
	image(t, root, "dst.img", size)
	c := copyConfig{Source: "/src.img", Target: "/dst.img", Manifest: "/dst.img.blocks", BlockSize: blocks.DefaultBlockSize,
		Snapshot: drives.None, Hidden: true}
	var log progressLog
	ctx := host.WithProgress(context.Background(), log.add)

	h := connect()
	if err := host.CanCall(ctx, h); err != nil {
		t.Fatalf("the test needs the agent: %v", err)
	}
	res, err := copyOn(ctx, h, cfg.Value(), c)
	if err != nil || !res.Copied || res.Generation != 1 {
		t.Fatalf("first copy: %+v, %v: %s", res, err, render(res.diagnostics()))
	}
	if p := log.last(); p.Done != size || p.Total != size {
		t.Errorf("the last progress is %+v, want all %d bytes", p, size)
	}

	second := bytes.Clone(first)
	copy(second[size/8:], bytes.Repeat([]byte("second"), size/8))
	if err := os.WriteFile(filepath.Join(root, "src.img"), second, 0o600); err != nil {
		t.Fatal(err)
	}
	copied := make(chan error, 1)
	go func() {
		_, err := copyOn(ctx, h, cfg.Value(), c)
		copied <- err
	}()
	// Just into the changed part: the pieces are written in order.
	at := int64(size/8 + 1<<20)
	sshtest.WaitFor(t, "the update to write the target", func() bool {
		return writtenAt(filepath.Join(root, "dst.img"), at, second[at:at+4096])
	})
	h.Close()
	select {
	case err := <-copied:
		if err == nil {
			t.Fatal("the update finished before the connection closed; the test proves nothing")
		}
	case <-time.After(time.Minute):
		t.Fatal("the copy did not end with its connection")
	}
	sshtest.WaitFor(t, "the agent to end with its connection", func() bool { return len(s.ConnectionPIDs(t)) == 0 })
	target := blocks.Target{Host: host.NewLocal("fs2", root), Path: "/dst.img", Manifest: "/dst.img.blocks", Journal: "/dst.img.journal"}
	if st, err := target.Inspect(context.Background()); err != nil || !st.Interrupted {
		t.Fatalf("after the connection closed the target is %+v, %v; want an interrupted copy", st, err)
	}
	if got := read(t, filepath.Join(root, "dst.img")); bytes.Equal(got, first) || bytes.Equal(got, second) {
		t.Fatal("the interrupted update is not half made; the test proves nothing")
	}

	res, err = copyOn(ctx, connect(), cfg.Value(), c)
	if err != nil || !res.Copied || res.Generation != 2 {
		t.Fatalf("copy after the interruption: %+v, %v: %s", res, err, render(res.diagnostics()))
	}
	if !bytes.Equal(read(t, filepath.Join(root, "dst.img")), second) {
		t.Error("after the next copy the target is not the source")
	}
}

// writtenAt says whether the file at path holds want at off.
func writtenAt(path string, off int64, want []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	got := make([]byte, len(want))
	_, err = f.ReadAt(got, off)
	return err == nil && bytes.Equal(got, want)
}
