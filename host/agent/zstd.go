package agent

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc/encoding"
)

// compressorName is the gRPC compressor the client asks for on calls that
// carry file data: zstd at its fastest level, which keeps up with a
// network link and shrinks what compresses (zeros, text, free blocks of an
// image) several times.
const compressorName = "zstd"

func init() { encoding.RegisterCompressor(&zstdCompressor{}) }

type zstdCompressor struct {
	encoders sync.Pool
	decoders sync.Pool
}

func (c *zstdCompressor) Name() string { return compressorName }

func (c *zstdCompressor) Compress(w io.Writer) (io.WriteCloser, error) {
	e, _ := c.encoders.Get().(*zstd.Encoder)
	if e == nil {
		var err error
		e, err = zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, err
		}
	} else {
		e.Reset(w)
	}
	return &pooledEncoder{Encoder: e, pool: &c.encoders}, nil
}

type pooledEncoder struct {
	*zstd.Encoder
	pool *sync.Pool
}

func (e *pooledEncoder) Close() error {
	err := e.Encoder.Close()
	e.pool.Put(e.Encoder)
	return err
}

func (c *zstdCompressor) Decompress(r io.Reader) (io.Reader, error) {
	d, _ := c.decoders.Get().(*zstd.Decoder)
	if d == nil {
		var err error
		d, err = zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, err
		}
	} else if err := d.Reset(r); err != nil {
		return nil, err
	}
	return &pooledDecoder{Decoder: d, pool: &c.decoders}, nil
}

// pooledDecoder goes back to the pool once it has read the whole message.
type pooledDecoder struct {
	*zstd.Decoder
	pool *sync.Pool
	done bool
}

func (d *pooledDecoder) Read(p []byte) (int, error) {
	if d.done {
		return 0, io.EOF
	}
	n, err := d.Decoder.Read(p)
	if err == io.EOF {
		d.done = true
		d.Decoder.Reset(nil)
		d.pool.Put(d.Decoder)
	}
	return n, err
}
