package host

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

type sizeReq struct{ Path string }

type sizeResp struct {
	Size int64
	Host string
}

func init() {
	RegisterOp("host-test.size", func(ctx context.Context, h Host, req sizeReq) (sizeResp, error) {
		fi, err := h.Lstat(ctx, req.Path)
		if err != nil {
			return sizeResp{}, err
		}
		return sizeResp{Size: fi.Size(), Host: h.Name()}, nil
	})
}

// loopback plays a transport with an agent: it sends each op through the
// wire encoding to a host of this machine, as an agent would run it.
type loopback struct {
	Host
	agent Host
}

func (l loopback) Invoke(ctx context.Context, name string, req []byte) ([]byte, error) {
	return RunOp(ctx, l.agent, name, req)
}

type noOps struct{ Host }

func TestCall(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	h := NewLocal("fs1", root)
	if err := h.WriteFile(ctx, "/a", strings.NewReader("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		h       Host
		want    sizeResp
		wantErr error
	}{
		{"local", h, sizeResp{5, "fs1"}, nil},
		{"through an agent", loopback{Host: h, agent: NewLocal("agent", root)}, sizeResp{5, "agent"}, nil},
		{"transport without ops", noOps{h}, sizeResp{}, ErrNoOps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Call[sizeReq, sizeResp](ctx, tc.h, "host-test.size", sizeReq{"/a"})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := Call[sizeReq, sizeResp](ctx, h, "host-test.none", sizeReq{}); err == nil || !strings.Contains(err.Error(), "no op called host-test.none") {
		t.Errorf("unknown op: err = %v", err)
	}
	if !errors.Is(ErrNoOps, errors.ErrUnsupported) {
		t.Error("ErrNoOps must be errors.ErrUnsupported, for callers to fall back")
	}
}

func TestCanCall(t *testing.T) {
	ctx := context.Background()
	h := NewLocal("fs1", t.TempDir())
	for _, tc := range []struct {
		name string
		h    Host
		want error
	}{
		{"local", h, nil},
		{"through an agent", loopback{Host: h, agent: h}, nil},
		{"transport without ops", noOps{h}, ErrNoOps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CanCall(ctx, tc.h); !errors.Is(err, tc.want) {
				t.Errorf("CanCall = %v, want %v", err, tc.want)
			}
		})
	}
}

type countReq struct{ N int64 }

func init() {
	RegisterOp("host-test.count", func(ctx context.Context, h Host, req countReq) (struct{ N int64 }, error) {
		for i := int64(1); i <= req.N; i++ {
			ReportProgress(ctx, Progress{Done: i, Total: req.N, Unit: "items", Message: "counting"})
		}
		return struct{ N int64 }{req.N}, nil
	})
}

// TestReportProgress expects an op's progress to reach the caller's
// WithProgress function wherever the op runs, and nothing to happen where
// the caller asked for none.
func TestReportProgress(t *testing.T) {
	h := NewLocal("fs1", t.TempDir())
	for _, tc := range []struct {
		name string
		h    Host
	}{
		{"local", h},
		{"through an agent", loopback{Host: h, agent: NewLocal("agent", "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []Progress
			ctx := WithProgress(context.Background(), func(p Progress) { got = append(got, p) })
			if _, err := Call[countReq, struct{ N int64 }](ctx, tc.h, "host-test.count", countReq{N: 2}); err != nil {
				t.Fatal(err)
			}
			want := []Progress{{1, 2, "items", "counting"}, {2, 2, "items", "counting"}}
			if !slices.Equal(got, want) {
				t.Errorf("progress %+v, want %+v", got, want)
			}
			if _, err := Call[countReq, struct{ N int64 }](context.Background(), tc.h, "host-test.count", countReq{N: 2}); err != nil {
				t.Errorf("without a progress function: %v", err)
			}
		})
	}
}

// blobs is an op's request and response with bulk data beside a field.
type blobs struct {
	Tag  string
	data [][]byte
}

func (b blobs) BulkData() [][]byte { return b.data }

func (b *blobs) SetBulkData(data [][]byte) error {
	b.data = data
	return nil
}

func init() {
	RegisterOp("host-test.upper", func(ctx context.Context, h Host, req blobs) (blobs, error) {
		resp := blobs{Tag: req.Tag + "!"}
		for _, d := range req.data {
			resp.data = append(resp.data, bytes.ToUpper(d))
		}
		return resp, nil
	})
}

// TestBulk expects the bulk data of an op's request and response to
// cross the wire as it is, after the gob-encoded fields, and to be decoded
// in place: not a copy of what was received.
func TestBulk(t *testing.T) {
	ctx := context.Background()
	h := NewLocal("fs1", t.TempDir())
	req := blobs{Tag: "t", data: [][]byte{[]byte("ab"), {}, bytes.Repeat([]byte("c"), 100_000)}}
	want := blobs{Tag: "t!", data: [][]byte{[]byte("AB"), {}, bytes.Repeat([]byte("C"), 100_000)}}
	for _, tc := range []struct {
		name string
		h    Host
	}{
		{"local", h},
		{"through an agent", loopback{Host: h, agent: h}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Call[blobs, blobs](ctx, tc.h, "host-test.upper", req)
			if err != nil {
				t.Fatal(err)
			}
			if got.Tag != want.Tag || !slices.EqualFunc(got.data, want.data, bytes.Equal) {
				t.Errorf("got %q %q, want %q %q", got.Tag, got.data, want.Tag, want.data)
			}
		})
	}
	b, release, err := encode("test", req, true)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if len(b) > 100_002+100 {
		t.Errorf("%d bytes encoded for 100,002 of data: the data crossed through gob", len(b))
	}
	var got blobs
	if err := decode(b, &got); err != nil {
		t.Fatal(err)
	}
	if last := got.data[2]; &last[0] != &b[len(b)-len(last)] || cap(last) != len(last) {
		t.Error("the bulk data decoded is a copy of the buffer's, or reaches beyond its own bytes")
	}
	for _, cut := range []int{1, 50_000, 100_001} {
		if err := decode(b[:len(b)-cut], &got); err == nil {
			t.Errorf("cut %d bytes short: no error", cut)
		}
	}
}

// selfBlobs is blobs that encodes itself, its Tag as its bytes.
type selfBlobs struct{ blobs }

func (b selfBlobs) AppendBinary(out []byte) ([]byte, error) { return append(out, b.Tag...), nil }

func (b *selfBlobs) UnmarshalBinary(in []byte) error {
	b.Tag = string(in)
	return nil
}

func init() {
	RegisterOp("host-test.upper-self", func(ctx context.Context, h Host, req selfBlobs) (selfBlobs, error) {
		resp := selfBlobs{blobs{Tag: req.Tag + "!"}}
		for _, d := range req.data {
			resp.data = append(resp.data, bytes.ToUpper(d))
		}
		return resp, nil
	})
}

// TestSelfEncoding expects a request or response that encodes itself to
// cross as its own encoding after its length, not through gob, its bulk
// data after it; a message cut short fails to decode.
func TestSelfEncoding(t *testing.T) {
	h := NewLocal("fs1", t.TempDir())
	req := selfBlobs{blobs{Tag: "tag", data: [][]byte{[]byte("ab"), {}}}}
	got, err := Call[selfBlobs, selfBlobs](context.Background(), loopback{Host: h, agent: h}, "host-test.upper-self", req)
	if err != nil {
		t.Fatal(err)
	}
	if want := (selfBlobs{blobs{Tag: "tag!", data: [][]byte{[]byte("AB"), {}}}}); got.Tag != want.Tag || !slices.EqualFunc(got.data, want.data, bytes.Equal) {
		t.Errorf("got %q %q, want %q %q", got.Tag, got.data, want.Tag, want.data)
	}
	b, release, err := encode("test", req, true)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	// The length, the tag, then 2 slices of 2 and 0 bytes.
	if want := []byte("\x00\x00\x00\x00\x00\x00\x00\x03tag\x02\x02\x00ab"); !bytes.Equal(b, want) {
		t.Errorf("encoded as %q, want %q", b, want)
	}
	for _, cut := range []int{len(b) - 4, len(b) - 9, len(b) - 12} {
		var got selfBlobs
		if err := decode(b[:cut], &got); err == nil {
			t.Errorf("cut to %d bytes: no error", cut)
		}
	}
}

// releasedBlobs is blobs that counts the releases of its data.
type releasedBlobs struct {
	Tag      string
	data     [][]byte
	released *int
}

func (b releasedBlobs) BulkData() [][]byte { return b.data }

func (b *releasedBlobs) SetBulkData(data [][]byte) error {
	b.data = data
	return nil
}

func (b releasedBlobs) ReleaseBulk() { *b.released++ }

var released int

func init() {
	RegisterOp("host-test.released", func(ctx context.Context, h Host, req blobs) (releasedBlobs, error) {
		return releasedBlobs{Tag: req.Tag, data: [][]byte{[]byte(req.Tag)}, released: &released}, nil
	})
}

// TestReleaseBulk expects an op's bulk response to be released once
// encoded through an agent, with the data crossed whole, and never for a
// host of this machine, whose caller gets its slices.
func TestReleaseBulk(t *testing.T) {
	h := NewLocal("fs1", t.TempDir())
	for _, tc := range []struct {
		name     string
		h        Host
		released int
	}{
		{"local", h, 0},
		{"through an agent", loopback{Host: h, agent: h}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			released = 0
			got, err := Call[blobs, releasedBlobs](context.Background(), tc.h, "host-test.released", blobs{Tag: "abc"})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.data) != 1 || string(got.data[0]) != "abc" {
				t.Errorf("got %q, want [abc]", got.data)
			}
			if released != tc.released {
				t.Errorf("released %d times, want %d", released, tc.released)
			}
		})
	}
}

// gobBlobs is blobs with its data in gob, as op payloads were before Bulk.
type gobBlobs struct {
	Tag  string
	Data [][]byte
}

func init() {
	RegisterOp("host-test.echo-gob", func(ctx context.Context, h Host, req gobBlobs) (gobBlobs, error) { return req, nil })
	RegisterOp("host-test.echo-bulk", func(ctx context.Context, h Host, req blobs) (blobs, error) { return req, nil })
}

// BenchmarkOpPayload sends a batch of 64 files of 4 KiB to an op through
// the wire encoding and back, its data in gob or beside it (Bulk): B/op
// is what each copies and allocates on the way.
func BenchmarkOpPayload(b *testing.B) {
	h := NewLocal("fs1", b.TempDir())
	through := loopback{Host: h, agent: h}
	data := make([][]byte, 64)
	for i := range data {
		data[i] = bytes.Repeat([]byte{byte(i)}, 4<<10)
	}
	b.Run("gob", func(b *testing.B) {
		b.SetBytes(64 << 12)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Call[gobBlobs, gobBlobs](b.Context(), through, "host-test.echo-gob", gobBlobs{"t", data}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bulk", func(b *testing.B) {
		b.SetBytes(64 << 12)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Call[blobs, blobs](b.Context(), through, "host-test.echo-bulk", blobs{"t", data}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
