package ssh

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/sshtest"
)

// blob is an op's request and response whose content crosses as bulk
// data (host.Bulk), in a buffer the controller reuses once released
// (host.BulkHolder).
type blob struct {
	Host    string
	data    [][]byte
	release func()
}

func (b blob) BulkData() [][]byte { return b.data }

func (b *blob) SetBulkData(data [][]byte) error {
	b.data = data
	return nil
}

func (b *blob) HoldBulk(release func()) { b.release = release }

func init() {
	host.RegisterOp("ssh-test.echo", func(ctx context.Context, h host.Host, req blob) (blob, error) {
		return blob{Host: h.Name(), data: req.data}, nil
	})
}

// TestAgentInvokeBulk: an op that carries bulk data crosses a channel to
// the agent's relay socket, one channel for calls one after another, of
// a rooted host and its Sub hosts alike; where sshd refuses the channel
// (AllowStreamLocalForwarding no), it crosses the agent's stream.
func TestAgentInvokeBulk(t *testing.T) {
	for _, tc := range []struct {
		name     string
		refuse   bool
		channels int64
	}{
		{"relay", false, 1},
		{"refused", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sshtest.Start(t)
			if tc.refuse {
				s.Append(t, "AllowStreamLocalForwarding no\n")
			}
			h, _ := rootedHost(t, s)
			ctx := context.Background()
			if err := h.MkdirAll(ctx, "/srv", 0o755); err != nil {
				t.Fatal(err)
			}
			sub, err := h.Sub(ctx, "/srv")
			if err != nil {
				t.Fatal(err)
			}
			before := opsChannels.Load()
			// Odd calls keep their responses: no later call may write
			// over them, where released buffers are reused.
			kept := map[int]blob{}
			want := func(i int) [][]byte { return [][]byte{bytes.Repeat([]byte{byte(i)}, 3<<20), {}, []byte("end")} }
			for i, on := range []host.Host{h, sub, h, sub, h, sub} {
				resp, err := host.Call[blob, blob](ctx, on, "ssh-test.echo", blob{data: want(i)})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Host != "fs1" || !slices.EqualFunc(resp.data, want(i), bytes.Equal) {
					t.Fatalf("call %d answered host %q and %d slices, not what was sent", i, resp.Host, len(resp.data))
				}
				if i%2 == 1 {
					kept[i] = resp
				} else if resp.release != nil {
					resp.release()
				}
			}
			for i, resp := range kept {
				if !slices.EqualFunc(resp.data, want(i), bytes.Equal) {
					t.Errorf("the response of call %d changed after later calls", i)
				}
			}
			if got := opsChannels.Load() - before; got != tc.channels {
				t.Errorf("%d channels opened for the calls, want %d", got, tc.channels)
			}
		})
	}
}
