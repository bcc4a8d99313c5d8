package mirror

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"slices"
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

// Entry is one file, folder or link as a walk found it: what the host
// tells of it (ReadDirStat, Lstat). A walk keeps the host's lists as they
// come, sorted by name, without copying them.
type Entry host.EntryStat

const permBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// Kind is what the entry is. Drover's own entries (temp files, block
// records) are told by their names: a source walk leaves them out.
func (e *Entry) Kind() Kind {
	if e.Name != "" && e.Name[0] == '.' {
		if k := ownKind(e.Name); k != 0 {
			return k
		}
	}
	return kindOf(e.Mode)
}

// Perm holds the permission, setuid, setgid and sticky bits.
func (e *Entry) Perm() fs.FileMode { return e.Mode & permBits }

func kindOf(m fs.FileMode) Kind {
	switch {
	case m.IsRegular():
		return KindFile
	case m.IsDir():
		return KindDir
	case m&fs.ModeSymlink != 0:
		return KindSymlink
	}
	return KindOther
}

func entryOf(fi fs.FileInfo) *Entry {
	e := &Entry{Name: fi.Name(), Mode: fi.Mode(), Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
	if st, ok := host.StatOf(fi); ok {
		(*host.EntryStat)(e).SetStat(st)
	}
	return e
}

// sparse says whether a file has holes worth keeping.
func (e *Entry) sparse() bool {
	return e.Kind() == KindFile && e.HasStat && e.Size > 0 && e.Blocks*512 < e.Size
}

// Tree is what a walk found below a set's folder, by path relative to it
// ("" is the folder itself, then "a", "a/b", …).
type Tree struct {
	// root is the set's folder itself; nil when it was not found.
	root *Entry
	// folders holds the entries of each folder listed, sorted by name, by
	// the folder's path. The folders above a start hold only the entries
	// on the way to it.
	folders map[string][]host.EntryStat
	// Unreadable holds the entries that could not be read and why: nothing
	// below them is known, so a diff never deletes there.
	Unreadable map[string]error
	// starts are the subtrees walked ("" for all): a diff deletes only in
	// them.
	starts []string
}

func newTree(starts []string) *Tree {
	return &Tree{folders: map[string][]host.EntryStat{}, Unreadable: map[string]error{}, starts: starts}
}

// entry returns the entry at rel, nil when the walk did not find it.
func (t *Tree) entry(rel string) *Entry {
	if rel == "" {
		return t.root
	}
	list := t.folders[parent(rel)]
	if i, ok := find(list, pathBase(rel)); ok {
		return (*Entry)(&list[i])
	}
	return nil
}

// find is where name is, or would be, in a sorted list.
func find(list []host.EntryStat, name string) (int, bool) {
	return slices.BinarySearchFunc(list, name, func(e host.EntryStat, name string) int { return strings.Compare(e.Name, name) })
}

// insert records e at rel, keeping its folder's list sorted.
func (t *Tree) insert(rel string, e *Entry) {
	if rel == "" {
		t.root = e
		return
	}
	dir := parent(rel)
	list := t.folders[dir]
	i, ok := find(list, e.Name)
	if ok {
		list[i] = host.EntryStat(*e)
		return
	}
	t.folders[dir] = slices.Insert(list, i, host.EntryStat(*e))
}

// remove forgets the entry at rel and what was listed below it.
func (t *Tree) remove(rel string) {
	if rel == "" {
		t.root = nil
	} else if list := t.folders[parent(rel)]; list != nil {
		if i, ok := find(list, pathBase(rel)); ok {
			t.folders[parent(rel)] = slices.Delete(list, i, i+1)
		}
	}
	delete(t.folders, rel)
}

// each calls f for every entry but the root, folder by folder in no
// particular order.
func (t *Tree) each(f func(dir string, e *Entry)) {
	for dir, list := range t.folders {
		for i := range list {
			f(dir, (*Entry)(&list[i]))
		}
	}
}

func (t *Tree) sharedInodes() bool {
	for _, list := range t.folders {
		for i := range list {
			if e := (*Entry)(&list[i]); e.Kind() == KindFile && e.HasStat && e.Nlink > 1 {
				return true
			}
		}
	}
	return false
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

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
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
	list     lister
}

// lister lists folders: the walked host, or a tripwire on it.
type lister interface {
	ReadDirStat(ctx context.Context, path string) ([]host.EntryStat, error)
}

// walk lists the subtrees starts (relative paths, "" for all) of the
// confined host h, never following a symlink. A start that does not exist
// is simply absent. Entries the filter skips are left out.
func walk(ctx context.Context, h host.Host, starts []string, o walkOptions) (*Tree, error) {
	t := newTree(starts)
	w := &walker{ctx: ctx, h: h, o: o, t: t, sem: make(chan struct{}, max(o.parallel, 1))}
	for _, s := range starts {
		if err := w.start(s); err != nil {
			w.wg.Wait()
			return nil, err
		}
	}
	w.wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, rel := range w.gone {
		t.remove(rel)
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
	// mu guards t's maps and gone while folders are listed in parallel.
	mu sync.Mutex
	// gone are the folders that vanished before they could be listed.
	gone []string
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
		if e.Kind() != KindDir {
			return nil
		}
		w.mu.Lock()
		w.t.insert(rel, e)
		w.mu.Unlock()
	}
	e, ok, err := w.lstat(s)
	if err != nil || !ok {
		return err
	}
	if s != "" {
		if path.Base(s) == markerName {
			return nil
		}
		own := ownKind(path.Base(s))
		switch {
		case own != 0 && !w.o.temps:
			return nil
		case own == 0 && w.o.filter.Excluded(s, e.Kind() == KindDir):
			return nil
		}
	}
	if e.Kind() == KindSymlink {
		link, err := w.h.Readlink(w.ctx, hostPath(s))
		if err != nil {
			w.unreadable(s, err)
			return nil
		}
		e.Link = link
	}
	w.mu.Lock()
	w.t.insert(s, e)
	w.mu.Unlock()
	if e.Kind() == KindDir {
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
	e := entryOf(fi)
	e.Name = pathBase(rel)
	return e, true, nil
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
	list, err := w.o.list.ReadDirStat(w.ctx, hostPath(rel))
	var bad host.EntryErrors
	if errors.As(err, &bad) {
		for _, ee := range bad {
			if ee.Name == markerName {
				continue
			}
			child := join(rel, ee.Name)
			own := ownKind(ee.Name)
			// Its kind unknown, an entry is skipped if skipped as either.
			excluded := own == 0 && (w.o.filter.Excluded(child, false) || w.o.filter.Excluded(child, true))
			if (own == 0 || w.o.temps) && !excluded {
				w.unreadable(child, ee.Err)
			}
		}
		err = nil
	}
	if err != nil {
		w.mu.Lock()
		if errors.Is(err, fs.ErrNotExist) {
			w.gone = append(w.gone, rel)
		} else if w.ctx.Err() == nil {
			w.t.Unreadable[rel] = err
		}
		w.mu.Unlock()
		return
	}
	// The list is kept as it came, less what is not walked.
	filtered := w.o.filter.hasExcludes()
	var subdirs []string
	keep := list[:0]
	for i := range list {
		s := &list[i]
		if s.Name == markerName {
			// A source's marker, on either side (a replica may be the
			// source of another set): neither mirrored nor deleted.
			continue
		}
		own := ownKind(s.Name)
		if own != 0 && !w.o.temps {
			continue
		}
		isDir := s.Mode.IsDir()
		if own == 0 && filtered && w.o.filter.Excluded(join(rel, s.Name), isDir) {
			continue
		}
		if own == 0 && isDir {
			subdirs = append(subdirs, join(rel, s.Name))
		}
		keep = append(keep, *s)
	}
	w.mu.Lock()
	w.t.folders[rel] = keep
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
	included := func(rel string, isDir bool) bool {
		for p := rel; p != ""; p = parent(p) {
			if f.Included(p, p != rel || isDir) {
				return true
			}
		}
		return false
	}
	t.each(func(dir string, e *Entry) {
		rel := join(dir, e.Name)
		if k := e.Kind(); k == KindTemp || k == KindSidecar || included(rel, k == KindDir) {
			for p := rel; !keep[p]; p = parent(p) {
				keep[p] = true
			}
		}
	})
	for dir, list := range t.folders {
		if !keep[dir] {
			delete(t.folders, dir)
			continue
		}
		t.folders[dir] = slices.DeleteFunc(list, func(e host.EntryStat) bool { return !keep[join(dir, e.Name)] })
	}
}

// depth is how many folders deep rel is.
func depth(rel string) int {
	if rel == "" {
		return 0
	}
	return strings.Count(rel, "/") + 1
}
