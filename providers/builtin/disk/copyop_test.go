package disk

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/providers/builtin/disk/drives"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// loopback plays a transport with an agent: each op crosses the wire
// encoding to a host of this machine, as the agent runs it, and is
// counted.
type loopback struct {
	host.Host
	agent host.Host
	calls *atomic.Int64
}

func (l loopback) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	l.calls.Add(1)
	return host.RunOp(ctx, l.agent, name, req)
}

type noOps struct{ host.Host }

// progressLog collects the progress an op reports.
type progressLog struct {
	mu  sync.Mutex
	got []host.Progress
}

func (l *progressLog) add(p host.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, p)
}

// last is the last progress of the copy's bytes.
func (l *progressLog) last() host.Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.got) - 1; i >= 0; i-- {
		if l.got[i].Unit == "bytes" {
			return l.got[i]
		}
	}
	return host.Progress{}
}

// TestCopyOn runs a drive_copy's copy where its host runs ops (here, or
// through an agent's wire encoding), and through the host where it runs
// none: the same copy, the same result and progress, and failures that
// keep the attribute they are about.
func TestCopyOn(t *testing.T) {
	const size = 4 << 20
	for _, tc := range []struct {
		name    string
		h       func(root string, calls *atomic.Int64) host.Host
		invokes int64
	}{
		{"local", func(root string, calls *atomic.Int64) host.Host { return host.NewLocal("fs1", root) }, 0},
		{"through an agent", func(root string, calls *atomic.Int64) host.Host {
			return loopback{Host: host.NewLocal("controller", root), agent: host.NewLocal("fs1", root), calls: calls}
		}, 3},
		{"transport without ops", func(root string, calls *atomic.Int64) host.Host { return noOps{host.NewLocal("fs1", root)} }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			calls := &atomic.Int64{}
			h := tc.h(root, calls)
			src := randomFile(t, filepath.Join(root, "src.img"), size)
			image(t, root, "dst.img", size)
			image(t, root, "small.img", size/2)
			c := copyConfig{Source: "/src.img", Target: "/dst.img", Manifest: "/dst.img.blocks", BlockSize: blocks.DefaultBlockSize,
				Snapshot: drives.None, Hidden: true}
			var log progressLog
			ctx := host.WithProgress(context.Background(), log.add)
			copyOnce := func(c copyConfig) copyResult {
				t.Helper()
				res, err := copyOn(ctx, h, localHost, c)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}

			res := copyOnce(c)
			if diags := res.diagnostics(); diags.HasErrors() || !res.Copied || res.Generation != 1 {
				t.Fatalf("first copy: %+v: %s", res, render(diags))
			}
			copy(src[size/2:], bytes.Repeat([]byte("changed"), 1000))
			if err := os.WriteFile(filepath.Join(root, "src.img"), src, 0o600); err != nil {
				t.Fatal(err)
			}
			res = copyOnce(c)
			want := copyResult{Copied: true, CopiedAt: res.CopiedAt, Generation: 2, BlocksChanged: 1, BytesChanged: 8192,
				Digest: res.Digest, Used: "none (configured)"}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("second copy (-want +got):\n%s", diff)
			}
			if !bytes.Equal(read(t, filepath.Join(root, "dst.img")), src) {
				t.Error("the target is not the source")
			}
			if fi, err := os.Stat(filepath.Join(root, "dst.img")); err != nil || fi.Mode().Perm() != 0o400 {
				t.Errorf("the target is not hidden after the copy: %v %v", fi.Mode(), err)
			}
			if p := log.last(); p.Done != size || p.Total != size {
				t.Errorf("the last progress is %+v, want all %d bytes", p, size)
			}

			c.Target, c.Manifest = "/small.img", "/small.img.blocks"
			res = copyOnce(c)
			wantDiags := []copyDiag{{Attr: "target", Summary: "Target too small", Detail: res.Diags[0].Detail}}
			if diff := cmp.Diff(wantDiags, res.Diags); diff != "" || res.Copied {
				t.Errorf("copy to a small target: copied %v, diagnostics (-want +got):\n%s", res.Copied, diff)
			}
			if got := res.diagnostics()[0].Path; !got.Equals(cty.GetAttrPath("target")) {
				t.Errorf("the diagnostic is about %#v, want the target", got)
			}
			if got := calls.Load(); got != tc.invokes {
				t.Errorf("%d ops invoked through the transport, want %d", got, tc.invokes)
			}
		})
	}
}
