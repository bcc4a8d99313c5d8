package mirror

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/drover-dr/drover/host"
	"golang.org/x/time/rate"
)

// Endpoint is a folder on a host.
type Endpoint struct {
	Host host.Host
	Path string
}

func (e Endpoint) String() string { return e.Host.Name() + ":" + e.Path }

// Pair is a source folder and the target folder mirroring it.
type Pair struct {
	Source, Target Endpoint
}

// Options shapes a mirror.
type Options struct {
	Include, Exclude []string
	// DeleteOrphans removes target entries the source does not have.
	DeleteOrphans bool
	// Checksum compares files of equal size by content, not by time.
	Checksum bool
	Preserve Preserve
	// Bandwidth caps the data sent, in bytes per second; 0 for no cap.
	Bandwidth int64
	// Parallel is how many files are copied (and folders walked) at once.
	Parallel int
	// BlockThreshold: a file at least this large whose target copy has the
	// same size is updated in place by its changed blocks (package blocks,
	// with its manifest and undo journal beside it); 0 never.
	BlockThreshold int64
	// MaxDelete caps what one whole mirror deletes of a pair's replica
	// (ErrMassDelete); the zero value sets no cap.
	MaxDelete DeleteLimit
	// SourceIDs are, by pair, the identities MarkSources gave the source
	// folders at the last mirror ("" when none was recorded): a source
	// holding another is refused (ErrSourceReplaced).
	SourceIDs []string
	// AllowMassDelete lets through what MaxDelete and SourceIDs refuse,
	// and a source emptied while its replica holds files.
	AllowMassDelete bool
}

// Errors that stop a mirror before it changes anything.
var (
	// ErrSourceVanished: a source folder is missing, was replaced (an
	// unmount leaves the empty mount point) or emptied while its target
	// still holds files. Mirroring it would delete the replica.
	ErrSourceVanished = errors.New("the source folder vanished")
	// ErrOverlap: a target lies inside a source or the other way round.
	ErrOverlap = errors.New("source and target overlap")
)

// Mirror mirrors one or more pairs of folders.
type Mirror struct {
	opts    Options
	filter  *Filter
	limiter *rate.Limiter
	pairs   []*pair
}

type pair struct {
	Pair
	// src and dst are the hosts confined to the folders; dst is nil while
	// the target folder does not exist.
	src, dst host.Host
	// ops says, for the source and the target, whether their machines
	// run ops (host.CanCall): nil if so, else why not.
	ops [2]error
	// srcID is the source folder's identity when it was opened.
	srcID    host.Stat
	srcHasID bool
	mu       sync.Mutex
}

// New checks the pairs and opens their folders. Every source folder must
// exist; a target folder is created by the first Apply.
func New(ctx context.Context, pairs []Pair, opts Options) (*Mirror, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 8
	}
	f, err := NewFilter(opts.Include, opts.Exclude)
	if err != nil {
		return nil, err
	}
	m := &Mirror{opts: opts, filter: f}
	if opts.Bandwidth > 0 {
		m.limiter = rate.NewLimiter(rate.Limit(opts.Bandwidth), int(min(opts.Bandwidth, limitedChunk)))
	}
	for _, p := range pairs {
		for _, e := range []Endpoint{p.Source, p.Target} {
			if err := CheckPath(e.Path); err != nil {
				return nil, fmt.Errorf("%s: %w", e, err)
			}
		}
	}
	probes := probeAll(ctx, pairs)
	if err := checkOverlaps(pairs, probes); err != nil {
		return nil, err
	}
	for i, p := range pairs {
		mp, err := openPair(ctx, p, [2]error{probes[i][0].ops, probes[i][1].ops})
		if err != nil {
			m.Close()
			return nil, err
		}
		m.pairs = append(m.pairs, mp)
		if i < len(opts.SourceIDs) {
			if err := mp.checkIdentity(ctx, opts.SourceIDs[i], opts.AllowMassDelete); err != nil {
				m.Close()
				return nil, err
			}
		}
	}
	return m, nil
}

// CheckPath accepts absolute, clean paths without `..`.
func CheckPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("the path %q is not absolute", p)
	case slices.Contains(strings.Split(p, "/"), ".."):
		return fmt.Errorf("the path %q climbs with \"..\"; give the folder's own path", p)
	case path.Clean(p) != p:
		return fmt.Errorf("the path %q is not clean; write it as %q", p, path.Clean(p))
	}
	return nil
}

// probe is what New learns of an endpoint before it opens the folders:
// the folder's real path (or why not), and whether its machine runs ops
// (host.CanCall: nil if so).
type probe struct {
	real string
	err  error
	ops  error
}

// probeAll probes the source and the target of every pair, all at once:
// a host's first call dials it and its first op starts its agent, which,
// one host after the other, took most of a small mirror's time.
func probeAll(ctx context.Context, pairs []Pair) [][2]probe {
	probes := make([][2]probe, len(pairs))
	var wg sync.WaitGroup
	for i, p := range pairs {
		for j, e := range []Endpoint{p.Source, p.Target} {
			wg.Go(func() {
				pr := &probes[i][j]
				if pr.real, pr.err = e.Host.RealPath(ctx, e.Path); pr.err == nil {
					pr.ops = host.CanCall(ctx, e.Host)
				}
			})
		}
	}
	wg.Wait()
	return probes
}

// checkOverlaps refuses folders that lie inside one another on the same
// machine: a target inside a source would mirror itself, a source inside a
// target would be overwritten, and two targets or two sources nested would
// fight. Real paths (probes) see through symlinks and rooted hosts.
func checkOverlaps(pairs []Pair, probes [][2]probe) error {
	type folder struct {
		what    string
		e       Endpoint
		machine string
		real    string
	}
	var all []folder
	for i, p := range pairs {
		for j, x := range []struct {
			what string
			e    Endpoint
		}{{"source", p.Source}, {"target", p.Target}} {
			if err := probes[i][j].err; err != nil {
				return fmt.Errorf("%s %s: %w", x.what, x.e, err)
			}
			all = append(all, folder{fmt.Sprintf("%s %d", x.what, i+1), x.e, x.e.Host.Machine(), probes[i][j].real})
		}
	}
	within := func(a, b string) bool { return a == b || strings.HasPrefix(a, strings.TrimSuffix(b, "/")+"/") }
	for i, a := range all {
		for _, b := range all[i+1:] {
			if a.machine != b.machine {
				continue
			}
			if within(a.real, b.real) || within(b.real, a.real) {
				return fmt.Errorf("%w: %s (%s) and %s (%s) are the same folder or inside one another on that machine (%s, %s); choose folders apart",
					ErrOverlap, a.what, a.e, b.what, b.e, a.real, b.real)
			}
		}
	}
	return nil
}

func openPair(ctx context.Context, p Pair, ops [2]error) (*pair, error) {
	mp := &pair{Pair: p, ops: ops}
	fi, err := p.Source.Host.Lstat(ctx, p.Source.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: source %s does not exist (an unmounted disk?); nothing was changed", ErrSourceVanished, p.Source)
	case err != nil:
		return nil, fmt.Errorf("source %s: %w", p.Source, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("source %s is a symlink; give the folder it points to", p.Source)
	case !fi.IsDir():
		return nil, fmt.Errorf("source %s is not a folder", p.Source)
	}
	mp.srcID, mp.srcHasID = host.StatOf(fi)
	if mp.src, err = p.Source.Host.Sub(ctx, p.Source.Path); err != nil {
		return nil, fmt.Errorf("source %s: %w", p.Source, err)
	}
	if err := mp.openTarget(ctx, false); err != nil {
		mp.src.Close()
		return nil, err
	}
	return mp, nil
}

// openTarget opens the target folder, creating it when create is set.
func (p *pair) openTarget(ctx context.Context, create bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dst != nil {
		return nil
	}
	fi, err := p.Target.Host.Lstat(ctx, p.Target.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !create {
			return nil
		}
		if err := p.Target.Host.MkdirAll(ctx, p.Target.Path, 0o755); err != nil {
			return fmt.Errorf("target %s: %w", p.Target, err)
		}
	case err != nil:
		return fmt.Errorf("target %s: %w", p.Target, err)
	case !fi.IsDir():
		return fmt.Errorf("target %s is not a folder (a symlink or a file); move it away or choose another path", p.Target)
	}
	dst, err := p.Target.Host.Sub(ctx, p.Target.Path)
	if err != nil {
		return fmt.Errorf("target %s: %w", p.Target, err)
	}
	p.dst = dst
	return nil
}

// checkSource stops a run whose source folder is gone or was replaced
// since it was opened.
func (p *pair) checkSource(ctx context.Context) error {
	fi, err := p.Source.Host.Lstat(ctx, p.Source.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: source %s disappeared (an unmounted disk?); nothing was deleted", ErrSourceVanished, p.Source)
	case err != nil:
		return fmt.Errorf("source %s: %w", p.Source, err)
	case !fi.IsDir():
		return fmt.Errorf("%w: source %s is no longer a folder; nothing was deleted", ErrSourceVanished, p.Source)
	}
	if st, ok := host.StatOf(fi); ok && p.srcHasID && (st.Dev != p.srcID.Dev || st.Ino != p.srcID.Ino) {
		return fmt.Errorf("%w: source %s is another folder than when the run started (unmounted or replaced); nothing was deleted", ErrSourceVanished, p.Source)
	}
	return nil
}

// Close releases the folders.
func (m *Mirror) Close() error {
	var errs []error
	for _, p := range m.pairs {
		errs = append(errs, p.src.Close())
		if p.dst != nil {
			errs = append(errs, p.dst.Close())
		}
	}
	return errors.Join(errs...)
}

// WithoutOps names, sorted, the hosts whose machines run no ops
// (host.CanCall): their folders are walked one by one through the
// transport, not on the machine in one call.
func (m *Mirror) WithoutOps() []string {
	var names []string
	for _, p := range m.pairs {
		for i, e := range []Endpoint{p.Source, p.Target} {
			if p.ops[i] != nil && !slices.Contains(names, e.Host.Name()) {
				names = append(names, e.Host.Name())
			}
		}
	}
	slices.Sort(names)
	return names
}

// Pairs returns the pairs mirrored, in order.
func (m *Mirror) Pairs() []Pair {
	out := make([]Pair, len(m.pairs))
	for i, p := range m.pairs {
		out[i] = p.Pair
	}
	return out
}
