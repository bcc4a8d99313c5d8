package agent

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReadFromLengths copies readers of every shape ReadFrom handles: a
// known length smaller than a piece, whole pieces, a tail, a source that
// ends early, and one that fails midway, after which the file holds
// exactly what ReadFrom says it wrote.
func TestReadFromLengths(t *testing.T) {
	c := serve(t)
	ctx := context.Background()
	root := t.TempDir()
	s := Scope{Name: "fs2", Root: root}
	data := make([]byte, 3*pieceSize+123)
	for i := range data {
		data[i] = byte(i * 13)
	}
	broken := errors.New("source unreadable")
	for _, tt := range []struct {
		name    string
		r       func() io.Reader
		want    int
		wantErr error
	}{
		{"small known length", func() io.Reader { return io.LimitReader(bytes.NewReader(data), 1000) }, 1000, nil},
		{"empty", func() io.Reader { return bytes.NewReader(nil) }, 0, nil},
		{"one piece", func() io.Reader { return io.LimitReader(bytes.NewReader(data), pieceSize) }, pieceSize, nil},
		{"pieces and a tail", func() io.Reader { return bytes.NewReader(data) }, len(data), nil},
		{"source shorter than its limit", func() io.Reader { return io.LimitReader(bytes.NewReader(data[:pieceSize+5]), 4*pieceSize) }, pieceSize + 5, nil},
		{"source fails midway", func() io.Reader {
			return io.MultiReader(bytes.NewReader(data[:2*pieceSize+7]), iotestErr{broken})
		}, 2*pieceSize + 7, broken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "/" + filepath.Base(t.Name())
			f, err := c.OpenFile(ctx, s, name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n, err := f.ReadFrom(tt.r())
			if n != int64(tt.want) || !errors.Is(err, tt.wantErr) {
				t.Errorf("ReadFrom = %d, %v; want %d, %v", n, err, tt.want, tt.wantErr)
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != n {
				t.Errorf("position after ReadFrom = %d, want %d", pos, n)
			}
			got, err := os.ReadFile(filepath.Join(root, name))
			if err != nil || !bytes.Equal(got, data[:tt.want]) {
				t.Errorf("file holds %d bytes (%v), want the first %d of the source", len(got), err, tt.want)
			}
		})
	}
}

type iotestErr struct{ err error }

func (r iotestErr) Read([]byte) (int, error) { return 0, r.err }

// TestReadFromPipelines expects ReadFrom to write a piece while it reads
// the next: the reader here gives its second piece only once the first
// is in the file, which a copy that reads, then writes, never lets happen.
func TestReadFromPipelines(t *testing.T) {
	c := serve(t)
	root := t.TempDir()
	f, err := c.OpenFile(context.Background(), Scope{Name: "fs2", Root: root}, "/f", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &waitingReader{rest: 3 * pieceSize, path: filepath.Join(root, "f"), t: t}
	if n, err := f.ReadFrom(r); err != nil || n != 3*pieceSize {
		t.Fatalf("ReadFrom = %d, %v", n, err)
	}
}

// waitingReader gives zeros, and before each piece after the first waits
// until the piece before it is in the file at path.
type waitingReader struct {
	rest, given int
	path        string
	t           *testing.T
}

func (r *waitingReader) Read(p []byte) (int, error) {
	if r.rest == 0 {
		return 0, io.EOF
	}
	if r.given > 0 && r.given%pieceSize == 0 {
		deadline := time.Now().Add(10 * time.Second)
		for {
			fi, err := os.Stat(r.path)
			if err == nil && fi.Size() >= int64(r.given) {
				break
			}
			if time.Now().After(deadline) {
				return 0, errors.New("the piece before was not written while the next was read")
			}
			time.Sleep(time.Millisecond)
		}
	}
	n := min(len(p), r.rest, pieceSize-r.given%pieceSize)
	clear(p[:n])
	r.rest -= n
	r.given += n
	return n, nil
}
