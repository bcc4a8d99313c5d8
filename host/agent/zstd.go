package agent

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
)

// compressorName is the gRPC compressor of calls that carry file data
// that compresses (see compressible): zstd at its fastest level, which
// keeps up with a network link and shrinks zeros, text and the free blocks
// of an image several times.
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

// sampleEncoder compresses the samples compressible looks at.
var sampleEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))

// Compressible says whether data is worth compressing on the wire, from a
// few samples of it: compressing what does not shrink (media, encrypted or
// compressed files) costs more CPU on both ends than it saves on a fast
// link, while free space and text shrink several times.
func Compressible(data []byte) bool {
	const sample, minSize = 4 << 10, 16 << 10
	if len(data) < minSize {
		return false
	}
	var in, out int
	var dst []byte
	for _, at := range []int{0, len(data)/2 - sample/2, len(data) - sample} {
		dst = sampleEncoder.EncodeAll(data[at:at+sample], dst[:0])
		in += sample
		out += len(dst)
	}
	return out*10 < in*8
}

// dataCompression is the call option of a call carrying data: zstd where
// it pays.
func dataCompression(data []byte) grpc.CallOption {
	if Compressible(data) {
		return grpc.UseCompressor(compressorName)
	}
	return grpc.EmptyCallOption{}
}
