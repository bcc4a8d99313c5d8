package mirror

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/drover-dr/drover/host"
)

// Kind is what an entry of a tree is.
type Kind uint8

const (
	KindFile Kind = iota + 1
	KindDir
	KindSymlink
	// KindOther is a device, socket or pipe: never mirrored.
	KindOther
	// KindTemp is the temp file of a killed writer on the target: always
	// removed.
	KindTemp
	// KindSidecar is the block manifest or undo journal of a large target
	// file: kept while that file is mirrored, removed with it.
	KindSidecar
)

func (k Kind) String() string {
	switch k {
	case KindFile:
		return "file"
	case KindDir:
		return "folder"
	case KindSymlink:
		return "symlink"
	case KindTemp:
		return "temp file"
	case KindSidecar:
		return "block record"
	}
	return "special file"
}

// Entry is one file, folder or link as a walk found it.
type Entry struct {
	Kind Kind
	// Perm holds the permission, setuid, setgid and sticky bits.
	Perm  fs.FileMode
	Size  int64
	MTime int64 // Unix nanoseconds
	// Link is a symlink's target as written.
	Link string
	// Stat is valid when HasStat: the transport knows owners and inodes.
	Stat    host.Stat
	HasStat bool
}

const permBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

func entryOf(fi fs.FileInfo) *Entry {
	e := &Entry{Perm: fi.Mode() & permBits, Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
	switch m := fi.Mode(); {
	case m.IsRegular():
		e.Kind = KindFile
	case m.IsDir():
		e.Kind, e.Size = KindDir, 0
	case m&fs.ModeSymlink != 0:
		e.Kind = KindSymlink
	default:
		e.Kind = KindOther
	}
	e.Stat, e.HasStat = host.StatOf(fi)
	return e
}

// sparse says whether a file has holes worth keeping.
func (e *Entry) sparse() bool {
	return e.Kind == KindFile && e.HasStat && e.Size > 0 && e.Stat.Blocks*512 < e.Size
}

// Tree is what a walk found below a set's folder, by path relative to it
// ("" is the folder itself, then "a", "a/b", …).
type Tree struct {
	Entries map[string]*Entry
	// Unreadable holds the entries that could not be read and why: nothing
	// below them is known, so a diff never deletes there.
	Unreadable map[string]error
	// starts are the subtrees walked ("" for all): a diff deletes only in
	// them; the folders above a start are in Entries, but not their other
	// children.
	starts []string
}

// covers says whether rel lies in a walked subtree.
func (t *Tree) covers(rel string) bool {
	for _, s := range t.starts {
		if s == "" || rel == s || strings.HasPrefix(rel, s+"/") {
			return true
		}
	}
	return false
}

// unreadableAbove says whether rel or a folder above it is unreadable.
func (t *Tree) unreadableAbove(rel string) bool {
	if len(t.Unreadable) == 0 {
		return false
	}
	for p := rel; ; p = parent(p) {
		if _, ok := t.Unreadable[p]; ok {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// Paths lists the entries' paths, sorted.
func (t *Tree) Paths() []string {
	out := make([]string, 0, len(t.Entries))
	for p := range t.Entries {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func parent(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

func hostPath(rel string) string { return "/" + rel }

func pathBase(rel string) string { return rel[strings.LastIndexByte(rel, '/')+1:] }

// Suffixes of the block records kept beside a large target file.
const (
	manifestSuffix = ".drover-blocks"
	journalSuffix  = ".drover-journal"
)

// ownKind tells the entries Drover itself keeps in a target folder (temp
// files, block records) by their names; 0 for anything else. They are
// never copied from a source.
func ownKind(name string) Kind {
	switch {
	case host.IsTempName(name):
		return KindTemp
	case len(name) > 1 && name[0] == '.' && (strings.HasSuffix(name, manifestSuffix) || strings.HasSuffix(name, journalSuffix)):
		return KindSidecar
	}
	return 0
}

// sidecarOf is the file a block record belongs to, in the same folder.
func sidecarOf(rel string) string {
	dir, name := parent(rel), pathBase(rel)
	name = strings.TrimSuffix(strings.TrimSuffix(name[1:], manifestSuffix), journalSuffix)
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// walkOptions shapes one walk.
type walkOptions struct {
	filter *Filter
	// temps records temp files of killed writers (target side) instead of
	// skipping them (source side).
	temps    bool
	parallel int
}

// walk lists the subtrees starts (relative paths, "" for all) of the
// confined host h, never following a symlink. A start that does not exist
// is simply absent. Entries the filter skips are left out.
func walk(ctx context.Context, h host.Host, starts []string, o walkOptions) (*Tree, error) {
	t := &Tree{Entries: map[string]*Entry{}, Unreadable: map[string]error{}, starts: starts}
	w := &walker{ctx: ctx, h: h, o: o, t: t, sem: make(chan struct{}, max(o.parallel, 1))}
	for _, s := range starts {
		if err := w.start(s); err != nil {
			return nil, err
		}
	}
	w.wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.filter.hasIncludes() {
		t.keepIncluded(o.filter)
	}
	return t, nil
}

type walker struct {
	ctx context.Context
	h   host.Host
	o   walkOptions
	t   *Tree
	sem chan struct{}
	wg  sync.WaitGroup
	mu  sync.Mutex
}

// start records the folders above s, then walks s.
func (w *walker) start(s string) error {
	var above []string
	for p := parent(s); p != ""; p = parent(p) {
		above = append(above, p)
	}
	if s != "" {
		above = append(above, "")
	}
	for i := len(above) - 1; i >= 0; i-- {
		rel := above[i]
		if rel != "" && w.o.filter.Excluded(rel, true) {
			return nil
		}
		e, ok, err := w.lstat(rel)
		if err != nil || !ok {
			return err
		}
		if e.Kind != KindDir {
			return nil
		}
		w.t.Entries[rel] = e
	}
	e, ok, err := w.lstat(s)
	if err != nil || !ok {
		return err
	}
	if s != "" {
		own := ownKind(path.Base(s))
		switch {
		case own != 0 && !w.o.temps:
			return nil
		case own != 0:
			e.Kind = own
		case w.o.filter.Excluded(s, e.Kind == KindDir):
			return nil
		}
	}
	if !w.record(s, e) {
		return nil
	}
	if e.Kind == KindDir {
		w.wg.Add(1)
		w.dir(s)
	}
	return nil
}

// lstat reads one entry; ok is false when it is missing or unreadable
// (then recorded as such).
func (w *walker) lstat(rel string) (*Entry, bool, error) {
	fi, err := w.h.Lstat(w.ctx, hostPath(rel))
	if err != nil {
		if ctxErr := w.ctx.Err(); ctxErr != nil {
			return nil, false, ctxErr
		}
		w.unreadable(rel, err)
		return nil, false, nil
	}
	return entryOf(fi), true, nil
}

// record adds one entry, reading a symlink's target; false when it is
// skipped.
func (w *walker) record(rel string, e *Entry) bool {
	if e.Kind == KindSymlink {
		link, err := w.h.Readlink(w.ctx, hostPath(rel))
		if err != nil {
			w.unreadable(rel, err)
			return false
		}
		e.Link = link
	}
	w.mu.Lock()
	w.t.Entries[rel] = e
	w.mu.Unlock()
	return true
}

func (w *walker) unreadable(rel string, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	w.mu.Lock()
	w.t.Unreadable[rel] = err
	w.mu.Unlock()
}

// dir lists one folder and walks its subfolders, in new goroutines while
// the parallelism allows.
func (w *walker) dir(rel string) {
	defer w.wg.Done()
	if w.ctx.Err() != nil {
		return
	}
	entries, err := w.h.ReadDir(w.ctx, hostPath(rel))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			w.mu.Lock()
			delete(w.t.Entries, rel)
			w.mu.Unlock()
			return
		}
		w.unreadable(rel, err)
		return
	}
	found := make(map[string]*Entry, len(entries))
	var subdirs []string
	for _, d := range entries {
		name := d.Name()
		child := name
		if rel != "" {
			child = rel + "/" + name
		}
		own := ownKind(name)
		if own != 0 && !w.o.temps {
			continue
		}
		isDir := d.IsDir()
		if own == 0 && w.o.filter.Excluded(child, isDir) {
			continue
		}
		fi, err := d.Info()
		if err != nil {
			w.unreadable(child, err)
			continue
		}
		e := entryOf(fi)
		switch {
		case own != 0:
			e.Kind = own
		case e.Kind == KindSymlink:
			link, err := w.h.Readlink(w.ctx, hostPath(child))
			if err != nil {
				w.unreadable(child, err)
				continue
			}
			e.Link = link
		case e.Kind == KindDir:
			subdirs = append(subdirs, child)
		}
		found[child] = e
	}
	w.mu.Lock()
	for p, e := range found {
		w.t.Entries[p] = e
	}
	w.mu.Unlock()
	for _, sub := range subdirs {
		w.wg.Add(1)
		select {
		case w.sem <- struct{}{}:
			go func() {
				defer func() { <-w.sem }()
				w.dir(sub)
			}()
		default:
			w.dir(sub)
		}
	}
}

// keepIncluded drops what no include asks for: files that neither match
// nor lie below a matching folder, and folders holding nothing kept.
func (t *Tree) keepIncluded(f *Filter) {
	keep := map[string]bool{"": true}
	included := func(rel string) bool {
		for p := rel; p != ""; p = parent(p) {
			if f.Included(p, p != rel || t.Entries[rel].Kind == KindDir) {
				return true
			}
		}
		return false
	}
	for rel, e := range t.Entries {
		if e.Kind == KindTemp || e.Kind == KindSidecar || included(rel) {
			for p := rel; !keep[p]; p = parent(p) {
				keep[p] = true
			}
		}
	}
	for rel := range t.Entries {
		if !keep[rel] {
			delete(t.Entries, rel)
		}
	}
}

// depth is how many folders deep rel is.
func depth(rel string) int {
	if rel == "" {
		return 0
	}
	return strings.Count(rel, "/") + 1
}
