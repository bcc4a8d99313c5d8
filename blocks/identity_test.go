package blocks

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-dr/drover/host/agent"
)

// TestFileIdentityAcrossTransports expects a file to have one identity
// whether this process stats it or the agent on its machine does: a copy
// runs on the machine and records it, a plan scans from the controller.
func TestFileIdentityAcrossTransports(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "target.img"), make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- agent.Serve(context.Background(), sr, sw) }()
	c, err := agent.NewClient(ctx, cr, cw)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.Close()
		<-served
	}()
	f, err := c.OpenFile(ctx, agent.Scope{Name: "fs1", Root: root}, "/target.img", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	remote, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	local, err := os.Stat(filepath.Join(root, "target.img"))
	if err != nil {
		t.Fatal(err)
	}
	want := FileIdentity(local, 8192)
	if want.Inode == 0 {
		t.Fatalf("a local stat gives no inode: %+v", want)
	}
	if got := FileIdentity(remote, 8192); got != want {
		t.Errorf("through the agent the identity is %+v, here %+v", got, want)
	}
}
