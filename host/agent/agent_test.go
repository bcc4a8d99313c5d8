package agent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/gob"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover-dr/drover/host"
)

// serve runs the agent in this process over two pipes, as over an SSH
// session's stdio, and returns the client; Serve must end once it closes.
func serve(t testing.TB) *Client {
	c, _ := serveCounted(t)
	return c
}

// traffic counts the bytes that crossed each way.
type traffic struct{ toClient, toAgent atomic.Int64 }

type countingReader struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}

func serveCounted(t testing.TB) (*Client, *traffic) {
	t.Helper()
	w := &traffic{}
	cr, sw := io.Pipe()
	sr, cw := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- Serve(context.Background(), countingReader{sr, &w.toAgent}, sw) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := NewClient(ctx, countingReader{cr, &w.toClient}, cw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Serve did not end with its connection")
		}
	})
	return c, w
}

func TestHello(t *testing.T) {
	c := serve(t)
	_, sum, err := executable()
	if err != nil {
		t.Fatal(err)
	}
	if c.Hello.Sha256 != sum || c.Hello.Pid != int64(os.Getpid()) {
		t.Errorf("Hello = %v, want this program's sha256 %s and pid", c.Hello, sum)
	}
}

// TestFile reads and writes a file open in the agent the ways callers
// do: small sequential reads (bufio), seeks, io.Copy, random access.
func TestFile(t *testing.T) {
	c := serve(t)
	ctx := context.Background()
	root := t.TempDir()
	s := Scope{Name: "fs1", Root: root}
	want := make([]byte, 3*readAhead+100)
	for i := range want {
		want[i] = byte(i * 7)
	}
	f, err := c.OpenFile(ctx, s, "/f", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReaderSize(f, 4096)
	head := make([]byte, 10000)
	if _, err := io.ReadFull(br, head); err != nil || !bytes.Equal(head, want[:10000]) {
		t.Fatalf("small reads: %v", err)
	}
	// The position is what was handed out, not what was fetched ahead.
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil || pos != 10000+int64(br.Buffered()) {
		t.Errorf("Seek(0, SeekCurrent) = %d, %v; want %d", pos, err, 10000+br.Buffered())
	}
	var rest bytes.Buffer
	if _, err := io.Copy(&rest, f); err != nil || !bytes.Equal(rest.Bytes(), want[pos:]) {
		t.Errorf("io.Copy of the rest: %d bytes, %v", rest.Len(), err)
	}
	// A write drops what was read ahead.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	one := make([]byte, 1)
	f.Read(one)
	if _, err := f.WriteAt([]byte("new"), 1); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 3)
	if _, err := io.ReadFull(f, got); err != nil || string(got) != "new" {
		t.Errorf("read after WriteAt = %q, %v", got, err)
	}
	if _, err := f.ReadAt(got, int64(len(want))-1); err != io.EOF {
		t.Errorf("ReadAt across the end: %v, want io.EOF", err)
	}
	fi, err := f.Stat()
	if st, ok := host.StatOf(fi); err != nil || !ok || st.Nlink != 1 || fi.Size() != int64(len(want)) {
		t.Errorf("Stat = %v, %+v (%v), %v", fi, st, ok, err)
	}
}

// TestErrors expects errors to keep their kind and words across.
func TestErrors(t *testing.T) {
	c := serve(t)
	ctx := context.Background()
	root := t.TempDir()
	s := Scope{Name: "fs1", Root: root}
	if err := os.Symlink("/etc", filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"missing", func() error { _, err := c.Lstat(ctx, s, "/missing"); return err }(), fs.ErrNotExist},
		{"outside the root", func() error { _, err := c.Lstat(ctx, s, "/out/passwd"); return err }(), host.ErrOutsideRoot},
		{"exists", func() error {
			_, err := c.OpenFile(ctx, s, "/out", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			return err
		}(), fs.ErrExist},
		{"unknown op", func() error { _, err := c.Invoke(ctx, s, "agent-test.none", nil, nil); return err }(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || (tt.want != nil && !errors.Is(tt.err, tt.want)) {
				t.Errorf("err = %v, want %v", tt.err, tt.want)
			}
			var remote *RemoteError
			if !errors.As(tt.err, &remote) {
				t.Errorf("err = %T, not the agent's", tt.err)
			}
		})
	}
}

// TestCompression expects data that shrinks to cross compressed, both
// ways, and data that does not to cross as it is.
func TestCompression(t *testing.T) {
	c, w := serveCounted(t)
	ctx := context.Background()
	s := Scope{Name: "fs1", Root: t.TempDir()}
	random := make([]byte, 4<<20)
	rand.Read(random)
	for _, tc := range []struct {
		name       string
		data       []byte
		compressed bool
	}{{"zeros", make([]byte, 4<<20), true}, {"random", random, false}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := c.OpenFile(ctx, s, "/"+tc.name, os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			size := int64(len(tc.data))
			before := w.toAgent.Load()
			if _, err := f.WriteAt(tc.data, 0); err != nil {
				t.Fatal(err)
			}
			sent := w.toAgent.Load() - before
			before = w.toClient.Load()
			got := make([]byte, len(tc.data))
			if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, tc.data) {
				t.Fatalf("read back: %v", err)
			}
			received := w.toClient.Load() - before
			if tc.compressed && (sent > size/10 || received > size/10) {
				t.Errorf("%d bytes of %s crossed as %d to the agent and %d back, want compressed", size, tc.name, sent, received)
			}
			if !tc.compressed && (sent < size || received < size) {
				t.Errorf("%d bytes of %s crossed as %d to the agent and %d back: compressed?", size, tc.name, sent, received)
			}
		})
	}
}

// progressReq asks the op agent-test.progress to report N times, then to
// wait for its context to end if Hold, telling Ended when it did.
type progressReq struct {
	N    int64
	Hold bool
}

var progressEnded = make(chan error, 1)

func init() {
	host.RegisterOp("agent-test.progress", func(ctx context.Context, h host.Host, req progressReq) (struct{ N int64 }, error) {
		for i := int64(1); i <= req.N; i++ {
			host.ReportProgress(ctx, host.Progress{Done: i, Total: req.N, Unit: "items"})
		}
		if req.Hold {
			<-ctx.Done()
			progressEnded <- ctx.Err()
			return struct{ N int64 }{}, ctx.Err()
		}
		return struct{ N int64 }{req.N}, nil
	})
}

// TestInvokeProgress expects an op's progress to stream to the caller
// before its response, and a caller that stops waiting (its context
// ended, or the connection closed) to end the op on the machine.
func TestInvokeProgress(t *testing.T) {
	s := Scope{Name: "fs1", Root: t.TempDir()}
	t.Run("streamed", func(t *testing.T) {
		c := serve(t)
		var got []host.Progress
		ctx := host.WithProgress(context.Background(), func(p host.Progress) { got = append(got, p) })
		resp, err := host.Call[progressReq, struct{ N int64 }](ctx, invoker{host.NewLocal("controller", ""), c, s}, "agent-test.progress", progressReq{N: 3})
		if err != nil || resp.N != 3 {
			t.Fatalf("Call = %v, %v", resp, err)
		}
		want := []host.Progress{{Done: 1, Total: 3, Unit: "items"}, {Done: 2, Total: 3, Unit: "items"}, {Done: 3, Total: 3, Unit: "items"}}
		if !slices.Equal(got, want) {
			t.Errorf("progress %+v, want %+v", got, want)
		}
	})
	for _, tc := range []struct {
		name string
		stop func(c *Client, cancel context.CancelFunc)
	}{
		{"caller's context ended", func(c *Client, cancel context.CancelFunc) { cancel() }},
		{"connection closed", func(c *Client, cancel context.CancelFunc) { c.Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := serve(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan struct{})
			var once sync.Once
			ctx = host.WithProgress(ctx, func(host.Progress) { once.Do(func() { close(started) }) })
			called := make(chan error, 1)
			go func() {
				_, err := c.Invoke(ctx, s, "agent-test.progress", encodeGob(t, progressReq{N: 1, Hold: true}), func(p host.Progress) { host.ReportProgress(ctx, p) })
				called <- err
			}()
			select {
			case <-started:
			case <-time.After(30 * time.Second):
				t.Fatal("no progress from the op")
			}
			tc.stop(c, cancel)
			select {
			case err := <-progressEnded:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("the op ended with %v, want context.Canceled", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the op on the machine did not end")
			}
			if err := <-called; err == nil {
				t.Error("Invoke of a stopped op succeeded")
			}
		})
	}
}

// invoker is a host whose transport is the agent c.
type invoker struct {
	host.Host
	c *Client
	s Scope
}

func (i invoker) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	return i.c.Invoke(ctx, i.s, name, req, func(p host.Progress) { host.ReportProgress(ctx, p) })
}

func encodeGob(t *testing.T, v any) []byte {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// files is an op's request and response whose content crosses as bulk
// data (host.Bulk).
type files struct {
	Names []string
	data  [][]byte
}

func (f files) BulkData() [][]byte { return f.data }

func (f *files) SetBulkData(data [][]byte) error {
	f.data = data
	return nil
}

func init() {
	host.RegisterOp("agent-test.reverse", func(ctx context.Context, h host.Host, req files) (files, error) {
		resp := files{Names: req.Names}
		for _, d := range slices.Backward(req.data) {
			resp.data = append(resp.data, d)
		}
		return resp, nil
	})
}

// TestInvokeBulk expects an op's bulk data to cross the agent's
// connection both ways whole, call after call (its buffers reused).
func TestInvokeBulk(t *testing.T) {
	c := serve(t)
	h := invoker{host.NewLocal("controller", ""), c, Scope{Name: "fs1", Root: t.TempDir()}}
	for i := range 3 {
		req := files{Names: []string{"a", "b", "c"}, data: [][]byte{bytes.Repeat([]byte{byte(i)}, 5<<20), {}, []byte("c")}}
		resp, err := host.Call[files, files](context.Background(), h, "agent-test.reverse", req)
		if err != nil {
			t.Fatal(err)
		}
		want := [][]byte{[]byte("c"), {}, bytes.Repeat([]byte{byte(i)}, 5<<20)}
		if !slices.Equal(resp.Names, req.Names) || !slices.EqualFunc(resp.data, want, bytes.Equal) {
			t.Fatalf("call %d: got %v and %d slices of data, not what was sent back", i, resp.Names, len(resp.data))
		}
	}
}
