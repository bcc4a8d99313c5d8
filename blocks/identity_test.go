package blocks

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// TestIdentityMismatch expects a file told apart by its inode where both
// identities know it, and by size and modification time where one was
// taken through a transport that does not tell inodes.
func TestIdentityMismatch(t *testing.T) {
	file := Identity{Size: 8192, Dev: 1, Inode: 7, ModTime: 100}
	for _, tc := range []struct {
		name string
		got  Identity
		want string
	}{
		{"same file", file, ""},
		{"another inode", Identity{Size: 8192, Dev: 1, Inode: 8, ModTime: 100}, "it was replaced"},
		{"no inode told", Identity{Size: 8192, ModTime: 100}, ""},
		{"no inode told, written since", Identity{Size: 8192, ModTime: 200}, "modified since the last copy"},
		{"no inode told, another size", Identity{Size: 4096, ModTime: 100}, "size changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := file.mismatch(tc.got, true)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("mismatch = %q, want %q", got, tc.want)
			}
		})
	}
}
