package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func init() {
	RegisterOp("host-test.watched", func(ctx context.Context, h Host, req struct{ Dir string }) (struct{ Names []string }, error) {
		var resp struct{ Names []string }
		tw := WatchedBy(ctx)
		if tw == nil {
			return resp, errors.New("called without a tripwire")
		}
		entries, err := tw.ReadDirStat(ctx, req.Dir)
		for _, e := range entries {
			resp.Names = append(resp.Names, e.Name)
		}
		return resp, err
	})
}

// watchedInvoker plays the agent's tripwire: it runs an op on the machine
// with the tripwire at hand there.
type watchedInvoker struct {
	Tripwire
	agent Host
}

func (w watchedInvoker) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	return RunOp(WithTripwire(ctx, w.Tripwire), w.agent, name, req)
}

// TestCallWatched: an op called through a tripwire lists through it, in
// this process for a local host and on the machine through a tripwire
// that invokes; the tripwire watches what the op listed after the call.
// A tripwire that cannot invoke gives ErrNoOps.
func TestCallWatched(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		name    string
		wrap    func(h Host, tw Tripwire) (Host, Tripwire)
		wantErr error
	}{
		{"local", func(h Host, tw Tripwire) (Host, Tripwire) { return h, tw }, nil},
		{"through an agent", func(h Host, tw Tripwire) (Host, Tripwire) {
			return loopback{Host: h, agent: h}, watchedInvoker{tw, h}
		}, nil},
		{"a tripwire that cannot invoke", func(h Host, tw Tripwire) (Host, Tripwire) {
			return loopback{Host: h, agent: h}, tw
		}, ErrNoOps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, root := rootedHost(t)
			if err := os.MkdirAll(filepath.Join(root, "set/a"), 0o755); err != nil {
				t.Fatal(err)
			}
			tw, err := h.Tripwire(ctx, "/set")
			if err != nil {
				t.Fatal(err)
			}
			defer tw.Close()
			ch, ctw := tc.wrap(h, tw)
			resp, err := CallWatched[struct{ Dir string }, struct{ Names []string }](ctx, ch, ctw, "host-test.watched", struct{ Dir string }{"/set/a"})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("CallWatched: %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if len(resp.Names) != 0 || tw.Tripped() {
				t.Fatalf("listed %v, tripped %v", resp.Names, tw.Tripped())
			}
			if err := os.WriteFile(filepath.Join(root, "set/a/new"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if !tw.Tripped() {
				t.Error("not tripped by a file made in a folder the op listed")
			}
		})
	}
}
