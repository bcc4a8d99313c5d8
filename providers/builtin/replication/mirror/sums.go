package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/drover-dr/drover/blocks"
	"github.com/drover-dr/drover/host"
)

// sumsOp hashes files block by block on the machine that holds them: a
// comparison by content between hosts reached over a network then moves
// 16 bytes per block instead of every byte. The sums are the block
// engine's (blocks.HashBlock), as a replica's manifest holds them.
const sumsOp = "mirror.sums"

// SumsRequest asks for the sums of the files Paths (below Folder, each
// "/" and its path in the folder), in blocks of BlockSize.
type SumsRequest struct {
	Folder    string
	Paths     []string
	BlockSize int64
	Parallel  int
}

// SumsResponse holds the sums of a SumsRequest's files, in order.
type SumsResponse struct {
	Files []FileSums
}

// FileSums is one file's sums and the bytes they cover, or why the file
// could not be read (Err).
type FileSums struct {
	Sums []blocks.Sum
	Size int64
	Err  string
}

func init() {
	host.RegisterOp(sumsOp, sumsOnMachine)
}

// sumsOnMachine is the op: the files hashed on the machine of h.
func sumsOnMachine(ctx context.Context, h host.Host, req SumsRequest) (SumsResponse, error) {
	if err := CheckPath(req.Folder); err != nil {
		return SumsResponse{}, err
	}
	if req.BlockSize <= 0 {
		return SumsResponse{}, fmt.Errorf("block size %d: give a positive one", req.BlockSize)
	}
	sub, err := h.Sub(ctx, req.Folder)
	if err != nil {
		return SumsResponse{}, err
	}
	defer sub.Close()
	files := hashFiles(ctx, sub, req.Paths, req.BlockSize, req.Parallel)
	return SumsResponse{Files: files}, ctx.Err()
}

// hashFiles hashes the files paths of h, parallel at a time.
func hashFiles(ctx context.Context, h host.Host, paths []string, blockSize int64, parallel int) []FileSums {
	out := make([]FileSums, len(paths))
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, max(compareChunk/blockSize, 1)*blockSize)
			for i := range work {
				out[i] = hashFile(ctx, h, paths[i], blockSize, buf)
			}
		}()
	}
	for i := range paths {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// hashFile hashes the file at path of h in blocks of blockSize, reading
// into buf (a multiple of it).
func hashFile(ctx context.Context, h host.Host, path string, blockSize int64, buf []byte) FileSums {
	var out FileSums
	f, err := h.Open(ctx, path)
	if err != nil {
		out.Err = err.Error()
		return out
	}
	defer f.Close()
	for {
		if err := ctx.Err(); err != nil {
			out.Err = err.Error()
			return out
		}
		n, err := io.ReadFull(f, buf)
		for b := buf[:n]; len(b) > 0; b = b[min(int64(len(b)), blockSize):] {
			out.Sums = append(out.Sums, blocks.HashBlock(b[:min(int64(len(b)), blockSize)]))
		}
		out.Size += int64(n)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return out
		case err != nil:
			out.Err = fmt.Sprintf("reading %s: %v", path, err)
			return out
		}
	}
}

// sumsBatch bounds the files of one op call: a large folder is hashed in
// several, each answered before the next is asked.
const sumsBatch = 1000

// compareSums compares the files rels of a pair by their sums, each side
// hashed on its machine where it runs ops, here otherwise (every byte
// through the transport); true in the map when their data differ.
func (m *Mirror) compareSums(ctx context.Context, p *pair, rels []string) (map[string]bool, []PathError) {
	differs := make(map[string]bool, len(rels))
	var problems []PathError
	for batch := range slices.Chunk(rels, sumsBatch) {
		paths := make([]string, len(batch))
		for i, rel := range batch {
			paths[i] = hostPath(rel)
		}
		var sides [2][]FileSums
		var errs [2]error
		var wg sync.WaitGroup
		for i, e := range []Endpoint{p.Source, p.Target} {
			confined := p.src
			if i == 1 {
				confined = p.dst
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sides[i], errs[i] = m.sums(ctx, e, confined, p.ops[i], paths)
			}()
		}
		wg.Wait()
		for k, rel := range batch {
			var err error
			for i := range sides {
				switch {
				case errs[i] != nil:
					err = errs[i]
				case sides[i][k].Err != "":
					err = errors.New(sides[i][k].Err)
				}
				if err != nil {
					break
				}
			}
			if err != nil {
				problems = append(problems, PathError{Path: rel, Err: err})
				continue
			}
			a, b := sides[0][k], sides[1][k]
			differs[rel] = a.Size != b.Size || !slices.Equal(a.Sums, b.Sums)
		}
	}
	return differs, problems
}

// sums hashes the files paths of the folder e: on its machine in one op
// call where it runs ops (ops is nil), here through h, confined to e,
// otherwise.
func (m *Mirror) sums(ctx context.Context, e Endpoint, h host.Host, ops error, paths []string) ([]FileSums, error) {
	if ops == nil {
		req := SumsRequest{Folder: e.Path, Paths: paths, BlockSize: blocks.DefaultBlockSize, Parallel: m.opts.Parallel}
		resp, err := host.Call[SumsRequest, SumsResponse](ctx, e.Host, sumsOp, req)
		switch {
		case err == nil && len(resp.Files) != len(paths):
			return nil, fmt.Errorf("hashing files of %s on its machine: %d answers for %d files", e, len(resp.Files), len(paths))
		case err == nil:
			return resp.Files, nil
		case !errors.Is(err, host.ErrNoOps):
			return nil, fmt.Errorf("hashing files of %s on its machine: %w", e, err)
		}
	}
	return hashFiles(ctx, h, paths, blocks.DefaultBlockSize, m.opts.Parallel), ctx.Err()
}
