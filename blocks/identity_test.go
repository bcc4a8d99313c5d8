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

// A target read through a transport that tells less (SFTP: no inode,
// whole seconds) is the same target as when read with everything known;
// what both know still tells a replaced or rewritten file.
func TestIdentityMismatch(t *testing.T) {
	const ns = int64(1_700_000_000_123_456_789)
	full := Identity{Size: 100, Dev: 1, Inode: 42, ModTime: ns}
	for _, tc := range []struct {
		name string
		got  Identity
		want string
	}{
		{"same", full, ""},
		{"through SFTP", Identity{Size: 100, ModTime: ns / 1e9 * 1e9}, ""},
		{"through SFTP, written a second later", Identity{Size: 100, ModTime: (ns/1e9 + 1) * 1e9}, "modified since the last copy"},
		{"written in the same second", Identity{Size: 100, Dev: 1, Inode: 42, ModTime: ns + 1}, "modified since the last copy"},
		{"replaced", Identity{Size: 100, Dev: 1, Inode: 43, ModTime: ns}, "another file"},
		{"grown", Identity{Size: 200, Dev: 1, Inode: 42, ModTime: ns}, "size changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := full.mismatch(tc.got, true)
			if (tc.want == "") != (got == "") || (tc.want != "" && !strings.Contains(got, tc.want)) {
				t.Errorf("mismatch = %q, want %q", got, tc.want)
			}
		})
	}
}

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
