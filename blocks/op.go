package blocks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

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

// SumsRequest asks for the sums of the Blocks of Path, as a copy of Size
// bytes in blocks of BlockSize hashes them: the bytes outside Extents (all
// of Size when nil) read as zeros, a block wholly outside them has the
// zero Sum and is not read.
type SumsRequest struct {
	Path      string
	Size      int64
	BlockSize int64
	Extents   []Extent
	// Blocks are runs of blocks in ascending order, apart.
	Blocks []BlockRange
	// DropCache evicts the blocks from the machine's page cache first, so
	// that they are read from the medium: a verify.
	DropCache bool
}

// BlockRange is the blocks [First, End).
type BlockRange struct{ First, End int64 }

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
	// at[k] is where the sums of req.Blocks[k] start in the answer.
	at := make([]int64, len(req.Blocks)+1)
	for k, b := range req.Blocks {
		if b.First < 0 || b.First >= b.End || b.End > blockCount(req.Size, c.bs) || k > 0 && b.First <= req.Blocks[k-1].End {
			return SumsResponse{}, fmt.Errorf("blocks %d to %d lie outside the %d of %s, or not after the run before", b.First, b.End, blockCount(req.Size, c.bs), req.Path)
		}
		at[k+1] = at[k] + b.End - b.First
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
	// What the copy reads of the runs asked for.
	var ranges []blockRange
	for _, b := range req.Blocks {
		for _, r := range c.ranges {
			if r := (blockRange{max(r.first, b.First), min(r.end, b.End)}); r.first < r.end {
				ranges = append(ranges, r)
			}
		}
	}
	if req.DropCache {
		for _, r := range ranges {
			f.DropCache(r.first*c.bs, (r.end-r.first)*c.bs)
		}
	}
	sums := make([]Sum, at[len(req.Blocks)])
	_, err = c.hashRanges(ctx, input{r: f, m: mapSource(f, req.Size)}, ranges, "sums", 0, func(ch *chunk) bool {
		k := sort.Search(len(req.Blocks), func(k int) bool { return req.Blocks[k].End > ch.first })
		copy(sums[at[k]+ch.first-req.Blocks[k].First:], ch.sums)
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
