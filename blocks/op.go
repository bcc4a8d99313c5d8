package blocks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/drover-dr/drover/host"
)

// SumsOp is the op that hashes blocks of a file or block device on the
// machine that holds it: a copy between hosts reached over a network
// then pulls through the transport only the blocks whose sum differs,
// instead of every byte to be hashed here.
const SumsOp = "blocks.sums"

// HostPath is a file or block device of a host.
type HostPath struct {
	Host host.Host
	Path string
}

// SumsRequest asks for the sums of the blocks [First, End) of Path, as a
// copy of Size bytes in blocks of BlockSize hashes them: the bytes outside
// Extents (all of Size when nil) read as zeros, a block wholly outside
// them has the zero Sum and is not read.
type SumsRequest struct {
	Path       string
	Size       int64
	BlockSize  int64
	Extents    []Extent
	First, End int64
	// DropCache evicts the blocks from the machine's page cache first, so
	// that they are read from the medium: a verify.
	DropCache bool
}

// SumsResponse holds the sums of a SumsRequest's blocks, in order, 16
// bytes each, and the identity of the file they were read from, taken
// after the read: a caller reading the same path through the transport
// checks that both are the same file.
type SumsResponse struct {
	Sums     []byte
	Identity Identity
}

func init() {
	host.RegisterOp(SumsOp, hashOnMachine)
}

// hashOnMachine is the op: the same readers and hashing as a copy's pass,
// on the machine of h.
func hashOnMachine(ctx context.Context, h host.Host, req SumsRequest) (SumsResponse, error) {
	c, err := newScanner(Options{Size: req.Size, BlockSize: req.BlockSize, Extents: req.Extents})
	if err != nil {
		return SumsResponse{}, err
	}
	defer c.release()
	if req.First < 0 || req.First > req.End || req.End > blockCount(req.Size, c.bs) {
		return SumsResponse{}, fmt.Errorf("blocks %d to %d lie outside the %d of %s", req.First, req.End, blockCount(req.Size, c.bs), req.Path)
	}
	f, err := h.OpenFile(ctx, req.Path, os.O_RDONLY, 0)
	if err != nil {
		return SumsResponse{}, err
	}
	defer f.Close()
	if size, err := f.Seek(0, io.SeekEnd); err != nil {
		return SumsResponse{}, err
	} else if size < req.Size {
		return SumsResponse{}, fmt.Errorf("%s holds %d bytes, fewer than the %d being copied", req.Path, size, req.Size)
	}
	var ranges []blockRange
	for _, r := range c.ranges {
		if r := (blockRange{max(r.first, req.First), min(r.end, req.End)}); r.first < r.end {
			ranges = append(ranges, r)
		}
	}
	if req.DropCache {
		for _, r := range ranges {
			f.DropCache(r.first*c.bs, (r.end-r.first)*c.bs)
		}
	}
	sums := make([]Sum, req.End-req.First)
	_, err = c.hashRanges(ctx, input{r: f}, ranges, "sums", 0, func(ch *chunk) bool {
		copy(sums[ch.first-req.First:], ch.sums)
		return false
	}, nil)
	if err != nil {
		return SumsResponse{}, fmt.Errorf("reading %s: %w", req.Path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return SumsResponse{}, err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return SumsResponse{}, err
	}
	return SumsResponse{Sums: sumBytes(sums), Identity: FileIdentity(fi, size)}, nil
}

// onMachine returns where the blocks of p are to be hashed: p itself when
// its host's machine runs ops, nil when every byte must be read through
// the transport and hashed here.
func onMachine(ctx context.Context, p *HostPath) (*HostPath, error) {
	if p == nil {
		return nil, nil
	}
	err := host.CanCall(ctx, p.Host)
	switch {
	case errors.Is(err, host.ErrNoOps):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("host %q: %w", p.Host.Name(), err)
	}
	return p, nil
}
