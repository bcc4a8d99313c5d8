package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
)

// relayInvoker is a host whose ops cross one relay connection of the
// agent c, call after call.
type relayInvoker struct {
	host.Host
	ops *Ops
	s   Scope
}

func (i relayInvoker) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	return i.ops.Invoke(i.s, name, req, nil, func(p host.Progress) { host.ReportProgress(ctx, p) })
}

func openOps(t *testing.T, c *Client) (*Ops, func()) {
	t.Helper()
	conn := dialRelay(t, c)
	ops, err := OpenOps(conn)
	if err != nil {
		t.Fatal(err)
	}
	return ops, func() { conn.Close() }
}

func init() {
	host.RegisterOp("agent-test.missing", func(ctx context.Context, h host.Host, req struct{ Path string }) (struct{}, error) {
		return struct{}{}, fmt.Errorf("%s: %w", req.Path, fs.ErrNotExist)
	})
}

// TestOpsOverRelay expects op calls to cross a relay connection one after
// another as they cross the stream: bulk data whole both ways, progress
// before the response, an op's error with its kind (and the connection
// still good for the next call).
func TestOpsOverRelay(t *testing.T) {
	c := serve(t)
	ops, _ := openOps(t, c)
	s := Scope{Name: "fs1", Root: t.TempDir()}
	h := relayInvoker{host.NewLocal("controller", ""), ops, s}
	ctx := context.Background()
	for i := range 3 {
		req := files{Names: []string{"a", "b", "c"}, data: [][]byte{bytes.Repeat([]byte{byte(i)}, 5<<20), {}, []byte("c")}}
		resp, err := host.Call[files, files](ctx, h, "agent-test.reverse", req)
		if err != nil {
			t.Fatal(err)
		}
		want := [][]byte{[]byte("c"), {}, bytes.Repeat([]byte{byte(i)}, 5<<20)}
		if !slices.Equal(resp.Names, req.Names) || !slices.EqualFunc(resp.data, want, bytes.Equal) {
			t.Fatalf("call %d: got %v and %d slices of data, not what was sent back", i, resp.Names, len(resp.data))
		}
	}

	var got []host.Progress
	pctx := host.WithProgress(ctx, func(p host.Progress) { got = append(got, p) })
	resp, err := host.Call[progressReq, struct{ N int64 }](pctx, h, "agent-test.progress", progressReq{N: 2})
	if err != nil || resp.N != 2 {
		t.Fatalf("Call = %v, %v", resp, err)
	}
	want := []host.Progress{{Done: 1, Total: 2, Unit: "items"}, {Done: 2, Total: 2, Unit: "items"}}
	if !slices.Equal(got, want) {
		t.Errorf("progress %+v, want %+v", got, want)
	}

	_, err = host.Call[struct{ Path string }, struct{}](ctx, h, "agent-test.missing", struct{ Path string }{"/gone"})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "/gone") {
		t.Errorf("an op's error crossed as %v, want its words and fs.ErrNotExist", err)
	}
	if _, err := host.Call[files, files](ctx, h, "agent-test.reverse", files{Names: []string{"x"}, data: [][]byte{[]byte("x")}}); err != nil {
		t.Errorf("a call after an op's error: %v", err)
	}
	if _, err := host.Call[files, files](ctx, h, "no-such-op", files{}); err == nil {
		t.Error("a call of an op the agent does not know succeeded")
	}
}

// TestOpsOverRelayCancelled expects a caller that closes the connection
// while an op runs to end the op on the machine, and its call to fail as
// cut off.
func TestOpsOverRelayCancelled(t *testing.T) {
	c := serve(t)
	ops, closeConn := openOps(t, c)
	s := Scope{Name: "fs1", Root: t.TempDir()}
	started := make(chan struct{}, 1)
	called := make(chan error, 1)
	go func() {
		_, err := ops.Invoke(s, "agent-test.progress", encodeGob(t, progressReq{N: 1, Hold: true}), nil, func(host.Progress) {
			started <- struct{}{}
		})
		called <- err
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("no progress from the op")
	}
	closeConn()
	select {
	case err := <-progressEnded:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the op ended with %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the op on the machine did not end")
	}
	if err := <-called; !errors.Is(err, ErrLost) {
		t.Errorf("the call cut off failed with %v, want ErrLost", err)
	}
}
