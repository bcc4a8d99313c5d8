package mirror

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/escape"
	"github.com/drover-dr/drover/internal/plural"
)

// Progress is how far an Apply has got.
type Progress struct {
	Files, FilesTotal int
	Bytes, BytesTotal int64
	// Path is the entry last started.
	Path string
}

// Report is what an Apply did.
type Report struct {
	// Done tallies the changes made and the data sent.
	Done Summary
	// Retry lists the files left as they were because they changed while
	// being copied, or vanished: the next run mirrors them.
	Retry []PathError
	// Errors lists the entries that could not be mirrored.
	Errors []PathError
}

// ApplyError is returned when some entries could not be mirrored; all the
// others were. Its text lists them a line each, escaped (package escape).
type ApplyError struct {
	Errors []PathError
}

func (e *ApplyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s could not be mirrored:", plural.Count(len(e.Errors), "entry"))
	for i, pe := range e.Errors {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Errors)-maxListed)
			break
		}
		fmt.Fprintf(&b, "\n  %s", escape.Name(pe.Err.Error()))
	}
	return b.String()
}

const maxListed = 50

// Apply makes the targets mirror the sources as pl says. Every file is
// written to a temp file and renamed over the old one, so the target never
// holds a half-written file; folders get their metadata last; deletions
// come after the copies and only once the source folder proved still to be
// the same folder. One sync of each target's file system at the end makes
// everything durable: a sync per file would cost more than the copies, and
// a power loss before it leaves at worst files new in this apply empty,
// which the next run copies again (their size differs). Entries that fail are listed in an *ApplyError at the
// end, after the rest was done. progress, when not nil, is called now and
// then from another goroutine.
func (m *Mirror) Apply(ctx context.Context, pl *Plan, progress func(Progress)) (*Report, error) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	a := &applier{m: m, ctx: ctx, stop: stop, rep: &Report{}}
	for _, c := range pl.Changes {
		if c.Op != OpDelete {
			a.filesTotal++
		}
	}
	a.bytesTotal = pl.Summary.Bytes
	if progress != nil {
		stop := a.report(progress)
		defer stop()
	}
	byPair := make([][]Change, len(m.pairs))
	for _, c := range pl.Changes {
		byPair[c.Pair] = append(byPair[c.Pair], c)
	}
	for i, p := range m.pairs {
		if len(byPair[i]) == 0 {
			continue
		}
		if err := p.openTarget(ctx, true); err != nil {
			return a.rep, a.cause(err)
		}
		var trees pairTrees
		if i < len(pl.trees) {
			trees = pl.trees[i]
		}
		if err := a.pair(i, p, byPair[i], trees); err != nil {
			return a.rep, a.cause(err)
		}
	}
	a.rep.Errors = append(a.rep.Errors, pl.Problems...)
	sortErrors(a.rep.Errors)
	sortErrors(a.rep.Retry)
	if ctx.Err() != nil {
		return a.rep, a.cause(ctx.Err())
	}
	if len(a.rep.Errors) > 0 {
		return a.rep, &ApplyError{Errors: a.rep.Errors}
	}
	return a.rep, nil
}

func sortErrors(errs []PathError) {
	sort.Slice(errs, func(i, j int) bool {
		return errs[i].Pair < errs[j].Pair || errs[i].Pair == errs[j].Pair && errs[i].Path < errs[j].Path
	})
}

type applier struct {
	m   *Mirror
	ctx context.Context
	// stop ends the apply with its cause: a host that cannot be reached
	// fails every entry alike, so the first such failure ends it.
	stop context.CancelCauseFunc

	mu  sync.Mutex
	rep *Report

	filesTotal int
	bytesTotal int64
	files      atomic.Int64
	bytes      atomic.Int64
	current    atomic.Pointer[string]
}

func (a *applier) report(progress func(Progress)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	send := func() {
		p := Progress{Files: int(a.files.Load()), FilesTotal: a.filesTotal, Bytes: a.bytes.Load(), BytesTotal: a.bytesTotal}
		if s := a.current.Load(); s != nil {
			p.Path = *s
		}
		progress(p)
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				send()
			}
		}
	}()
	return func() { close(done); wg.Wait(); send() }
}

// cause is the error that ended the apply: a host found unreachable
// rather than the cancellation it caused.
func (a *applier) cause(err error) error {
	if a.ctx.Err() != nil {
		return context.Cause(a.ctx)
	}
	return err
}

func (a *applier) fail(pair int, rel string, err error) {
	if errors.Is(err, host.ErrUnreachable) {
		a.stop(err)
		return
	}
	a.mu.Lock()
	a.rep.Errors = append(a.rep.Errors, PathError{Pair: pair, Path: rel, Err: err})
	a.mu.Unlock()
}

func (a *applier) retry(pair int, rel string, err error) {
	a.mu.Lock()
	a.rep.Retry = append(a.rep.Retry, PathError{Pair: pair, Path: rel, Err: err})
	a.mu.Unlock()
}

func (a *applier) done(c *Change) {
	a.mu.Lock()
	switch c.Op {
	case OpAdd:
		a.rep.Done.Add++
	case OpUpdate:
		a.rep.Done.Update++
	case OpDelete:
		a.rep.Done.Delete++
	}
	a.rep.Done.Bytes += c.Bytes()
	a.mu.Unlock()
	if c.Op != OpDelete {
		a.files.Add(1)
	}
}

// pairRun is the state of one pair's apply.
type pairRun struct {
	*applier
	i   int
	p   *pair
	dst host.Host
	// src and dstTree are what the plan's walk found.
	src, dstTree *Tree
	// failed holds folders that could not be made: what goes inside is
	// skipped without an error of its own.
	failed sync.Map
	// batches says small files cross in batches (batch.go): both
	// machines run ops, and one of them is not this one.
	batches bool
	// withFiles are the new folders made by the first batch written
	// into them (batch.go), not before all files.
	withFiles map[string]bool
}

func (r *pairRun) underFailed(rel string) bool {
	for p := parent(rel); ; p = parent(p) {
		if _, ok := r.failed.Load(p); ok {
			return true
		}
		if p == "" {
			return false
		}
	}
}

func (a *applier) pair(i int, p *pair, changes []Change, trees pairTrees) error {
	r := &pairRun{applier: a, i: i, p: p, dst: p.dst, src: trees.src, dstTree: trees.dst,
		batches: p.ops[0] == nil && p.ops[1] == nil && (p.Source.Host.Machine() != "local" || p.Target.Host.Machine() != "local")}
	var replaced, orphans, dirs, entries, links []*Change
	// typeChanged are the entries removed to make room for another kind:
	// their change is the update, not a deletion.
	typeChanged := map[*Change]bool{}
	replacedDirs := map[string]bool{}
	for j := range changes {
		c := &changes[j]
		if c.Reason&ReasonType != 0 && c.Dst.Kind() == KindDir {
			replacedDirs[c.Path] = true
		}
	}
	for j := range changes {
		c := &changes[j]
		switch {
		case c.Op == OpDelete && underAny(c.Path, replacedDirs):
			replaced = append(replaced, c)
		case c.Op == OpDelete:
			orphans = append(orphans, c)
		case c.LinkTo != "":
			links = append(links, c)
		case c.Kind == KindDir:
			dirs = append(dirs, c)
		default:
			entries = append(entries, c)
		}
		if c.Reason&ReasonType != 0 {
			old := &Change{Op: OpDelete, Path: c.Path, Kind: c.Dst.Kind(), Dst: c.Dst}
			typeChanged[old] = true
			replaced = append(replaced, old)
		}
	}
	deepestFirst(replaced)
	for _, c := range replaced {
		ok, err := r.remove(c)
		if err != nil {
			return err
		}
		if ok && !typeChanged[c] {
			a.done(c)
		}
	}
	r.withFiles = r.madeWithFiles(dirs, entries, links)
	mkdir := r.mkdirs(dirs)
	for _, c := range dirs {
		r.dir(c, mkdir)
	}
	if err := r.entries(entries); err != nil {
		return err
	}
	for _, c := range links {
		r.hardLink(c)
	}
	if len(orphans) > 0 {
		if err := p.checkSource(a.ctx); err != nil {
			return err
		}
		deepestFirst(orphans)
		for _, c := range orphans {
			ok, err := r.remove(c)
			if err != nil {
				return err
			}
			if ok {
				a.done(c)
			}
		}
	}
	if err := r.folderMetadata(changes); err != nil {
		return err
	}
	if err := r.dst.Sync(a.ctx, "/"); err != nil && a.ctx.Err() == nil {
		r.fail(i, "", err)
	}
	return nil
}

func underAny(rel string, dirs map[string]bool) bool {
	for p := parent(rel); ; p = parent(p) {
		if dirs[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

func deepestFirst(cs []*Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		di, dj := depth(cs[i].Path), depth(cs[j].Path)
		return di > dj || di == dj && cs[i].Path > cs[j].Path
	})
}

// remove deletes one target entry; a folder is empty by then, its
// entries deleted before it.
// A failure is listed, ok false; err ends the apply.
func (r *pairRun) remove(c *Change) (ok bool, err error) {
	if err := r.ctx.Err(); err != nil {
		return false, err
	}
	if err := r.dst.Remove(r.ctx, hostPath(c.Path)); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) {
			err = fmt.Errorf("%w (it holds entries that appeared meanwhile)", err)
		}
		r.fail(r.i, c.Path, err)
		return false, nil
	}
	return true, nil
}

// dir makes the folder of c, through mkdir, unless it lies in one that
// could not be made.
func (r *pairRun) dir(c *Change, mkdir func(*Change) error) {
	if c.Path == "" {
		r.done(c)
		return
	}
	if r.underFailed(c.Path) {
		r.failed.Store(c.Path, true)
		return
	}
	if c.Op == OpAdd || c.Reason&ReasonType != 0 {
		if err := mkdir(c); err != nil {
			r.failed.Store(c.Path, true)
			r.fail(r.i, c.Path, err)
			return
		}
	}
	r.done(c)
}

// folderMetadata sets, deepest first, the metadata of every folder the
// apply created, changed or wrote into: writing into a folder changes its
// time, so this comes last.
func (r *pairRun) folderMetadata(changes []Change) error {
	touched := map[string]bool{}
	for _, c := range changes {
		if c.Kind == KindDir && c.Op != OpDelete {
			touched[c.Path] = true
		}
		if c.Path != "" {
			touched[parent(c.Path)] = true
		}
	}
	var dirs []*Change
	for rel := range touched {
		if r.src == nil {
			continue
		}
		s := r.src.entry(rel)
		if s == nil || s.Kind() != KindDir {
			continue
		}
		if _, bad := r.failed.Load(rel); bad || r.underFailed(rel) {
			continue
		}
		dirs = append(dirs, &Change{Path: rel, Src: s})
	}
	deepestFirst(dirs)
	for _, c := range dirs {
		if r.dstTree != nil {
			c.Dst = r.dstTree.entry(c.Path)
		}
	}
	if r.batches {
		r.metadataOnMachine(dirs)
		return r.ctx.Err()
	}
	for _, c := range dirs {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if err := r.setMetadata(r.dst, hostPath(c.Path), c.Src, c.Dst, true); err != nil {
			r.fail(r.i, c.Path, err)
		}
	}
	return nil
}

// setMetadata gives the target entry at path the preserved metadata of s:
// owner first (a chown clears setuid bits), then mode, then times. d is the
// target's entry before, if any, whose mode stays when modes are not
// preserved. inPlace says d is the entry at path itself, as nothing since
// the walk changed its owner or mode: what it has already is not set again.
func (r *pairRun) setMetadata(dst host.Host, path string, s, d *Entry, inPlace bool) error {
	return setMetadata(r.ctx, r.m.opts.Preserve, dst, path, s, d, inPlace)
}

// setMetadata is pairRun.setMetadata with the preserved metadata pres, for
// the ops that write on the target's machine too.
func setMetadata(ctx context.Context, pres Preserve, dst host.Host, path string, s, d *Entry, inPlace bool) error {
	return setMetadataOf(pres, pathMeta{ctx, dst, path}, s, d, inPlace)
}

// setMetadataOf is setMetadata for an entry reached through t.
func setMetadataOf(pres Preserve, t metadataTarget, s, d *Entry, inPlace bool) error {
	inPlace = inPlace && d != nil && d.Kind() == s.Kind() && d.HasStat
	chowned := false
	if pres&PreserveOwner != 0 && s.HasStat && !(inPlace && d.UID == s.UID && d.GID == s.GID) {
		if err := t.chown(int(s.UID), int(s.GID)); err != nil {
			return err
		}
		chowned = true
	}
	if s.Kind() == KindSymlink {
		return nil
	}
	mode := s.Perm()
	if pres&PreserveMode == 0 {
		mode = s.Perm() & fs.ModePerm &^ 0o022
		if d != nil && d.Kind() == s.Kind() {
			mode = d.Perm()
		}
	}
	if chowned || !inPlace || d.Perm() != mode {
		if err := t.chmod(mode); err != nil {
			return err
		}
	}
	if pres&PreserveTimes != 0 {
		if err := t.setModTime(time.Unix(0, s.MTime)); err != nil {
			return err
		}
	}
	return nil
}

// metadataTarget is the entry setMetadataOf changes: one at a path of a
// host (pathMeta), or a file open on the target's machine (fileMeta).
type metadataTarget interface {
	chown(uid, gid int) error
	chmod(mode fs.FileMode) error
	setModTime(mtime time.Time) error
}

// pathMeta is the entry at path on h, never followed if a symlink.
type pathMeta struct {
	ctx  context.Context
	h    host.Host
	path string
}

func (p pathMeta) chown(uid, gid int) error     { return p.h.Lchown(p.ctx, p.path, uid, gid) }
func (p pathMeta) chmod(mode fs.FileMode) error { return p.h.Chmod(p.ctx, p.path, mode) }
func (p pathMeta) setModTime(mtime time.Time) error {
	return p.h.Chtimes(p.ctx, p.path, time.Time{}, mtime)
}

// fileMeta is a temp file just written, still open, at path: its metadata
// set through it takes no lookup of its name (nor, for the time, the
// check that the name is no symlink).
type fileMeta struct {
	pathMeta
	f host.MetadataFile
}

func (m fileMeta) chown(uid, gid int) error     { return m.f.Chown(uid, gid) }
func (m fileMeta) chmod(mode fs.FileMode) error { return m.f.Chmod(mode) }
func (m fileMeta) setModTime(mtime time.Time) error {
	if err := m.f.SetModTime(mtime); !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return m.pathMeta.setModTime(mtime)
}

func (r *pairRun) hardLink(c *Change) {
	if r.underFailed(c.Path) {
		return
	}
	tmp := host.TempPath(hostPath(c.Path))
	if err := r.dst.Link(r.ctx, hostPath(c.LinkTo), tmp); err != nil {
		r.fail(r.i, c.Path, err)
		return
	}
	if err := r.dst.Rename(r.ctx, tmp, hostPath(c.Path)); err != nil {
		r.dst.Remove(context.WithoutCancel(r.ctx), tmp)
		r.fail(r.i, c.Path, err)
		return
	}
	r.done(c)
}
