package mirror

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/wire"
)

// scanOp walks subtrees of a folder on the machine that holds it and
// answers with every entry at once: over a network, one round trip for a
// tree instead of one per folder, and the inodes and owners the machine
// knows (SFTP tells no inodes).
const scanOp = "mirror.scan"

// ScanRequest asks for a walk of Starts (paths relative to Folder, "" for
// all of it) as a walk of this package does it: Include and Exclude are
// the set's globs, Temps keeps Drover's own entries (a target's walk).
type ScanRequest struct {
	Folder           string
	Starts           []string
	Include, Exclude []string
	Temps            bool
	Parallel         int
}

// ScanResponse is what the walk found, as a Tree holds it.
type ScanResponse struct {
	// Root is the folder itself, when HasRoot.
	Root    host.EntryStat
	HasRoot bool
	Folders map[string][]host.EntryStat
	// Unreadable holds, by path, why an entry could not be read.
	Unreadable map[string]string
}

// AppendBinary encodes r after b: a scan's response holds an entry for
// everything in the tree, which gob would reflect over field by field at
// both ends (see wire.go).
func (r ScanResponse) AppendBinary(b []byte) ([]byte, error) {
	b = wire.AppendBool(b, r.HasRoot)
	if r.HasRoot {
		b = appendEntry(b, &r.Root)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Folders)))
	for dir, list := range r.Folders {
		b = wire.AppendString(b, dir)
		b = binary.AppendUvarint(b, uint64(len(list)))
		for i := range list {
			b = appendEntry(b, &list[i])
		}
	}
	b = binary.AppendUvarint(b, uint64(len(r.Unreadable)))
	for rel, why := range r.Unreadable {
		b = wire.AppendString(wire.AppendString(b, rel), why)
	}
	return b, nil
}

func (r *ScanResponse) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	*r = ScanResponse{HasRoot: d.Bool()}
	if r.HasRoot {
		decodeEntry(d, &r.Root)
	}
	if n := d.Count(); n > 0 {
		r.Folders = make(map[string][]host.EntryStat, n)
		for range n {
			dir := d.String()
			list := make([]host.EntryStat, d.Count())
			for i := range list {
				decodeEntry(d, &list[i])
			}
			r.Folders[dir] = list
		}
	}
	if n := d.Count(); n > 0 {
		r.Unreadable = make(map[string]string, n)
		for range n {
			rel := d.String()
			r.Unreadable[rel] = d.String()
		}
	}
	if err := d.End(); err != nil {
		return fmt.Errorf("decoding a scan's response: %w", err)
	}
	return nil
}

func init() {
	host.RegisterOp(scanOp, scanOnMachine)
}

// scanOnMachine is the op: the walk, on the machine of h. Called through
// a tripwire (host.CallWatched), h is the folder itself, Folder is
// ignored, and every folder is listed through that tripwire, which goes
// on watching after.
func scanOnMachine(ctx context.Context, h host.Host, req ScanRequest) (ScanResponse, error) {
	var resp ScanResponse
	filter, err := NewFilter(req.Include, req.Exclude)
	if err != nil {
		return resp, err
	}
	o := walkOptions{filter: filter, temps: req.Temps, parallel: req.Parallel}
	if tw := host.WatchedBy(ctx); tw != nil {
		o.list = tw
	} else {
		if err := CheckPath(req.Folder); err != nil {
			return resp, err
		}
		sub, err := h.Sub(ctx, req.Folder)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// A folder gone is a walk that found nothing, as a walk of
			// it through the transport finds it.
			return resp, nil
		case err != nil:
			resp.Unreadable = map[string]string{"": err.Error()}
			return resp, nil
		}
		defer sub.Close()
		h, o.list = sub, sub
	}
	t, err := walk(ctx, h, req.Starts, o)
	if err != nil {
		return resp, err
	}
	if t.root != nil {
		resp.Root, resp.HasRoot = host.EntryStat(*t.root), true
	}
	resp.Folders = t.folders
	if len(t.Unreadable) > 0 {
		resp.Unreadable = make(map[string]string, len(t.Unreadable))
		for rel, err := range t.Unreadable {
			resp.Unreadable[rel] = err.Error()
		}
	}
	return resp, nil
}

// scan walks the folder e on its machine (the op mirror.scan) as req
// asks.
func scan(ctx context.Context, e Endpoint, req ScanRequest) (*Tree, error) {
	req.Folder = e.Path
	resp, err := host.Call[ScanRequest, ScanResponse](ctx, e.Host, scanOp, req)
	if err != nil {
		return nil, fmt.Errorf("walking %s on its machine: %w", e, err)
	}
	return treeOf(req, resp), nil
}

// scanWatched walks the folder e, h confined to it, on its machine
// through tw, a tripwire of h on its "/" that goes on watching after
// (host.CallWatched): the walk of a plan's guard in one call.
func scanWatched(ctx context.Context, e Endpoint, h host.Host, tw host.Tripwire, req ScanRequest) (*Tree, error) {
	resp, err := host.CallWatched[ScanRequest, ScanResponse](ctx, h, tw, scanOp, req)
	if err != nil {
		return nil, fmt.Errorf("walking %s on its machine: %w", e, err)
	}
	return treeOf(req, resp), nil
}

// treeOf is the tree a scan's response carries.
func treeOf(req ScanRequest, resp ScanResponse) *Tree {
	t := newTree(req.Starts)
	if resp.Folders != nil {
		t.folders = resp.Folders
	}
	if resp.HasRoot {
		root := Entry(resp.Root)
		t.root = &root
	}
	for rel, text := range resp.Unreadable {
		t.Unreadable[rel] = errors.New(text)
	}
	return t
}
