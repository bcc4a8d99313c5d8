package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"sync"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/plural"
)

// Plan is what a mirror would do: the itemised changes of every pair.
type Plan struct {
	// Changes are sorted by pair, then path.
	Changes []Change
	Summary Summary
	// Problems are entries that could not be read: left alone by Apply,
	// which fails at the end naming them.
	Problems []PathError
	trees    []pairTrees
	guard    *planGuard
}

// planGuard is what tells whether a guarded plan is still current.
type planGuard struct {
	// wires hold a tripwire for each folder of both sides that existed.
	wires []host.Tripwire
	// absent are the target folders missing at the walk: still empty
	// while still missing.
	absent []Endpoint
	// void: a folder could not have a tripwire; nothing is proved.
	void bool
	// unwatched names the hosts with a folder no tripwire watches.
	unwatched []string
}

type pairTrees struct{ src, dst *Tree }

// PathError is a problem with one entry of a pair.
type PathError struct {
	Pair int
	Path string
	Err  error
}

func (e PathError) Error() string { return e.Err.Error() }

// Plan walks every pair whole and lists what Apply would change.
func (m *Mirror) Plan(ctx context.Context) (*Plan, error) {
	return m.plan(ctx, m.whole(), false)
}

// PlanGuarded is Plan, with a tripwire (host.Host.Tripwire) on each
// folder it lists: Current then tells whether the plan still describes
// both sides. Close releases the tripwires.
func (m *Mirror) PlanGuarded(ctx context.Context) (*Plan, error) {
	return m.plan(ctx, m.whole(), true)
}

func (m *Mirror) whole() [][]string {
	all := make([][]string, len(m.pairs))
	for i := range all {
		all[i] = []string{""}
	}
	return all
}

// PlanPaths lists the changes within the given subtrees of each pair
// (paths relative to the pair's folders, "" for all): what continuous
// replication sends after the source reported changes there.
func (m *Mirror) PlanPaths(ctx context.Context, starts [][]string) (*Plan, error) {
	return m.plan(ctx, starts, false)
}

// Current says whether a guarded plan still describes both sides of
// every pair: no change made through the file system in any folder since
// the walk listed it, no file with another name outside the set (a hard
// link, through which it may change unseen), no target folder made that
// was missing. What no tripwire sees are writes through a memory mapping,
// which change a file's time but send no event.
func (pl *Plan) Current(ctx context.Context) bool {
	g := pl.guard
	if g == nil || g.void || pl.sharedInodes() {
		return false
	}
	for _, tw := range g.wires {
		if tw.Tripped() {
			return false
		}
	}
	for _, e := range g.absent {
		if _, err := e.Host.Lstat(ctx, e.Path); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	return true
}

// Unwatched names the hosts where a guarded plan has folders no tripwire
// watches (a host reached over SFTP cannot watch): Current is then false,
// and whoever applies the plan walks both sides again, the slower safe
// path.
func (pl *Plan) Unwatched() []string {
	if pl.guard == nil {
		return nil
	}
	return slices.Clone(pl.guard.unwatched)
}

// Close releases a guarded plan's tripwires; Current is false after it.
func (pl *Plan) Close() {
	if g := pl.guard; g != nil {
		for _, tw := range g.wires {
			tw.Close()
		}
		g.void = true
	}
}

func (pl *Plan) sharedInodes() bool {
	for _, t := range pl.trees {
		for _, tree := range []*Tree{t.src, t.dst} {
			if tree != nil && tree.sharedInodes() {
				return true
			}
		}
	}
	return false
}

func (m *Mirror) plan(ctx context.Context, starts [][]string, guarded bool) (_ *Plan, err error) {
	pl := &Plan{trees: make([]pairTrees, len(m.pairs))}
	if guarded {
		pl.guard = &planGuard{}
		defer func() {
			if err != nil {
				pl.Close()
			}
		}()
	}
	for i, p := range m.pairs {
		if len(starts[i]) == 0 {
			continue
		}
		src, dst, err := m.walkPair(ctx, p, minimal(starts[i]), pl.guard)
		if err != nil {
			return nil, err
		}
		pl.trees[i] = pairTrees{src, dst}
		differs, problems := m.compareContent(ctx, p, src, dst)
		for rel, err := range src.Unreadable {
			problems = append(problems, PathError{Path: rel, Err: err})
		}
		for rel, err := range dst.Unreadable {
			problems = append(problems, PathError{Path: rel, Err: err})
		}
		for _, pe := range problems {
			pe.Pair = i
			pl.Problems = append(pl.Problems, pe)
		}
		interrupted, err := interruptedUpdates(ctx, p.dst, dst)
		if err != nil {
			return nil, err
		}
		changes := diff(src, dst, diffOptions{preserve: m.opts.Preserve, deleteOrphans: m.opts.DeleteOrphans,
			checksum: m.opts.Checksum, differs: differs, interrupted: interrupted})
		if len(starts[i]) == 1 && starts[i][0] == "" {
			if err := m.checkDeletions(p, dst, changes); err != nil {
				return nil, err
			}
		}
		s := summarize(changes, src)
		pl.Summary.Add += s.Add
		pl.Summary.Update += s.Update
		pl.Summary.Delete += s.Delete
		pl.Summary.Bytes += s.Bytes
		if s.Oldest != 0 && (pl.Summary.Oldest == 0 || s.Oldest < pl.Summary.Oldest) {
			pl.Summary.Oldest = s.Oldest
		}
		for j := range changes {
			changes[j].Pair = i
		}
		pl.Changes = append(pl.Changes, changes...)
	}
	sort.Slice(pl.Problems, func(i, j int) bool {
		a, b := pl.Problems[i], pl.Problems[j]
		return a.Pair < b.Pair || a.Pair == b.Pair && a.Path < b.Path
	})
	return pl, nil
}

// minimal drops the starts that lie below another.
func minimal(starts []string) []string {
	sorted := append([]string(nil), starts...)
	sort.Strings(sorted)
	var out []string
	for _, s := range sorted {
		if len(out) > 0 {
			last := out[len(out)-1]
			if last == "" || s == last || len(s) > len(last) && s[:len(last)] == last && s[len(last)] == '/' {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// walkPair walks both folders of a pair, refusing a source that vanished
// or was emptied while its target holds files.
func (m *Mirror) walkPair(ctx context.Context, p *pair, starts []string, g *planGuard) (src, dst *Tree, err error) {
	p.mu.Lock()
	target := p.dst
	p.mu.Unlock()
	// The tripwires go up before anything is read.
	srcWire, dstWire := g.tripwire(ctx, p.src), host.Tripwire(nil)
	if target != nil {
		dstWire = g.tripwire(ctx, target)
	} else if g != nil {
		g.absent = append(g.absent, p.Target)
	}
	if err := p.checkSource(ctx); err != nil {
		return nil, nil, err
	}
	so := walkOptions{filter: m.filter, parallel: m.opts.Parallel}
	to := walkOptions{filter: m.filter, parallel: m.opts.Parallel, temps: true}
	var srcErr, dstErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		src, srcErr = m.walkSide(ctx, p.Source, p.src, p.ops[0], starts, so, srcWire)
	}()
	if target != nil {
		dst, dstErr = m.walkSide(ctx, p.Target, target, p.ops[1], starts, to, dstWire)
	} else {
		dst = newTree(starts)
	}
	wg.Wait()
	if err := errors.Join(srcErr, dstErr); err != nil {
		return nil, nil, err
	}
	if err := p.checkSource(ctx); err != nil {
		return nil, nil, err
	}
	if src.root == nil && src.covers("") {
		return nil, nil, fmt.Errorf("%w: source %s cannot be read; nothing was changed", ErrSourceVanished, p.Source)
	}
	if m.opts.DeleteOrphans && !m.opts.AllowMassDelete && len(starts) == 1 && starts[0] == "" && len(src.folders[""]) == 0 && len(src.Unreadable) == 0 {
		held := 0
		dst.each(func(_ string, e *Entry) {
			if e.Kind() != KindTemp && e.Kind() != KindSidecar {
				held++
			}
		})
		if held > 0 {
			return nil, nil, fmt.Errorf("%w: source %s is empty while its target %s holds %s (an unmounted disk leaves an empty mount point); "+
				"nothing was deleted. If the source really is empty now, empty the target by hand", ErrSourceVanished, p.Source, p.Target, plural.Count(held, "entry"))
		}
	}
	return src, dst, nil
}

// tripwire sets, with a guard, a tripwire on the folder of the confined
// host h and keeps it in the guard; nil without a guard, or where h has no
// tripwire (the guard is then void).
func (g *planGuard) tripwire(ctx context.Context, h host.Host) host.Tripwire {
	if g == nil {
		return nil
	}
	tw, err := h.Tripwire(ctx, "/")
	if err != nil {
		g.void = true
		if !slices.Contains(g.unwatched, h.Name()) {
			g.unwatched = append(g.unwatched, h.Name())
		}
		return nil
	}
	g.wires = append(g.wires, tw)
	return tw
}

// walkSide walks one side of a pair, the folder e, h confined to it,
// through the guard's tripwire tw where there is one, which goes on
// watching after the walk, for Current. Where the folder's machine runs
// ops (ops is nil), the walk is one op call there: through tw where it
// can be called through (host.CallWatched: the agent's), else plainly
// where there is no tw (a guard without one is void). Else it lists
// folder by folder through tw or h.
func (m *Mirror) walkSide(ctx context.Context, e Endpoint, h host.Host, ops error, starts []string, o walkOptions, tw host.Tripwire) (*Tree, error) {
	if ops == nil {
		req := ScanRequest{Starts: starts, Include: m.opts.Include, Exclude: m.opts.Exclude, Temps: o.temps, Parallel: m.opts.Parallel}
		var t *Tree
		var err error
		if tw != nil {
			t, err = scanWatched(ctx, e, h, tw, req)
		} else {
			t, err = scan(ctx, e, req)
		}
		if !errors.Is(err, host.ErrNoOps) {
			return t, err
		}
	}
	o.list = h
	if tw != nil {
		o.list = tw
	}
	return walk(ctx, h, starts, o)
}

// compareContent compares, for checksum, the files of equal size on both
// sides; true in the map when their data differ. Where neither machine
// runs ops, the files are read side by side through the transports.
func (m *Mirror) compareContent(ctx context.Context, p *pair, src, dst *Tree) (map[string]bool, []PathError) {
	if !m.opts.Checksum || p.dst == nil {
		return nil, nil
	}
	var todo []string
	for dir, list := range src.folders {
		merge(list, dst.folders[dir], func(s, d *Entry) {
			if s != nil && d != nil && s.Kind() == KindFile && d.Kind() == KindFile && s.Size == d.Size {
				todo = append(todo, join(dir, s.Name))
			}
		})
	}
	if p.ops[0] == nil || p.ops[1] == nil {
		// A side whose machine hashes its files sends sums, not data.
		return m.compareSums(ctx, p, todo)
	}
	differs := make(map[string]bool, len(todo))
	var problems []PathError
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for range m.opts.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rel := range work {
				same, err := sameContent(ctx, p.src, p.dst, hostPath(rel))
				mu.Lock()
				if err != nil {
					problems = append(problems, PathError{Path: rel, Err: err})
				} else {
					differs[rel] = !same
				}
				mu.Unlock()
			}
		}()
	}
	for _, rel := range todo {
		work <- rel
	}
	close(work)
	wg.Wait()
	return differs, problems
}

// sameContent reads two files side by side.
func sameContent(ctx context.Context, a, b interface {
	Open(context.Context, string) (io.ReadCloser, error)
}, path string) (bool, error) {
	ra, err := a.Open(ctx, path)
	if err != nil {
		return false, err
	}
	defer ra.Close()
	rb, err := b.Open(ctx, path)
	if err != nil {
		return false, err
	}
	defer rb.Close()
	bufA, bufB := make([]byte, compareChunk), make([]byte, compareChunk)
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		na, errA := io.ReadFull(ra, bufA)
		nb, errB := io.ReadFull(rb, bufB)
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false, nil
		}
		endA := errA == io.EOF || errA == io.ErrUnexpectedEOF
		endB := errB == io.EOF || errB == io.ErrUnexpectedEOF
		switch {
		case errA != nil && !endA:
			return false, errA
		case errB != nil && !endB:
			return false, errB
		case endA || endB:
			return endA == endB, nil
		}
	}
}

const compareChunk = 1 << 20
