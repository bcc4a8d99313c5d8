package mirror

import (
	"fmt"
	"sort"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/drover-dr/drover/internal/escape"
)

// Op is what a change does to the target.
type Op uint8

const (
	OpAdd Op = iota + 1
	OpUpdate
	OpDelete
)

func (o Op) String() string {
	switch o {
	case OpAdd:
		return "+"
	case OpUpdate:
		return "~"
	}
	return "-"
}

// Reason says why an entry is updated; several may hold.
type Reason uint16

const (
	ReasonSize Reason = 1 << iota
	ReasonMTime
	ReasonContent
	ReasonMode
	ReasonOwner
	// ReasonType: the target holds another kind of entry (a folder where
	// the source has a file, …), removed first.
	ReasonType
	// ReasonLink: a symlink points elsewhere.
	ReasonLink
	// ReasonHardLink: the file must share its inode with LinkTo.
	ReasonHardLink
	// ReasonInterrupted: an update in place of the file was interrupted
	// (its undo journal is open): it holds parts of two versions, and
	// its size and time tell nothing.
	ReasonInterrupted
)

var reasonNames = []string{"size", "mtime", "content", "mode", "owner", "type", "link target", "hard link", "interrupted update"}

func (r Reason) String() string {
	var parts []string
	for i, name := range reasonNames {
		if r&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	return strings.Join(parts, ", ")
}

// Preserve is the metadata a mirror keeps.
type Preserve uint8

const (
	PreserveMode Preserve = 1 << iota
	PreserveOwner
	// PreserveTimes keeps modification times; without it a file counts as
	// changed when the target is older than the source.
	PreserveTimes
	// PreserveSymlinks copies symlinks as symlinks; without it they are
	// skipped. Symlinks are never followed either way.
	PreserveSymlinks
	PreserveHardLinks

	PreserveAll = PreserveMode | PreserveOwner | PreserveTimes | PreserveSymlinks | PreserveHardLinks
)

// Change is one line of the itemised plan.
type Change struct {
	// Pair is the index of the pair the change belongs to.
	Pair   int
	Op     Op
	Reason Reason
	// Path is relative to the set's folder, `/`-separated.
	Path string
	// Kind is the source's kind for an add or update, the target's for a
	// delete.
	Kind     Kind
	Src, Dst *Entry
	// Content says the file's data must be sent; otherwise an update only
	// sets metadata.
	Content bool
	// LinkTo is the path of the file this one is a hard link to.
	LinkTo string
}

// Bytes is how much data the change sends.
func (c *Change) Bytes() int64 {
	if c.Content {
		return c.Src.Size
	}
	return 0
}

// String is the change in the plan's notation, its names escaped
// (package escape): a name cannot act on the terminal it is printed on.
func (c *Change) String() string {
	var b strings.Builder
	b.WriteString(c.Op.String())
	b.WriteByte(' ')
	b.WriteString(escape.Name(c.Path))
	switch {
	case c.Kind == KindDir:
		b.WriteByte('/')
	case c.Op != OpDelete && c.LinkTo != "":
		b.WriteString(" => " + escape.Name(c.LinkTo))
	case c.Op != OpDelete && c.Kind == KindSymlink:
		b.WriteString(" -> " + escape.Name(c.Src.Link))
	}
	switch {
	case c.Op == OpUpdate:
		fmt.Fprintf(&b, " (%s)", c.Reason)
	case c.Op == OpAdd && c.Content:
		fmt.Fprintf(&b, " (%s)", FormatBytes(c.Src.Size))
	}
	return b.String()
}

// Summary tallies a plan.
type Summary struct {
	Add, Update, Delete int
	// Bytes is the data to send.
	Bytes int64
	// Oldest is the modification time (Unix ns) of the oldest source change
	// not yet on the target, 0 when there is none. A deletion counts from
	// the last change of the folder that held the entry.
	Oldest int64
}

// Empty says whether nothing differs.
func (s Summary) Empty() bool { return s.Add+s.Update+s.Delete == 0 }

func (s Summary) String() string {
	if s.Empty() {
		return "in sync"
	}
	return fmt.Sprintf("%s to add, %s to update, %s to delete, %s to send",
		count(s.Add), count(s.Update), count(s.Delete), FormatBytes(s.Bytes))
}

func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// FormatBytes renders a size in binary units: "0 B", "12 KiB", "3.4 GiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	for v >= unit && i < 6 {
		v /= unit
		i++
	}
	suffix := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}[i]
	if v < 10 {
		return fmt.Sprintf("%.1f %s", v, suffix)
	}
	return fmt.Sprintf("%.0f %s", v, suffix)
}

// diffOptions shapes a diff.
type diffOptions struct {
	preserve      Preserve
	deleteOrphans bool
	checksum      bool
	// differs holds the content comparisons made for checksum: true when
	// the files' data differ. Files missing from it are compared by size
	// and time.
	differs map[string]bool
	// interrupted holds the target files whose update in place was
	// interrupted (interruptedUpdates).
	interrupted map[string]bool
}

// diff lists what turns dst into a mirror of src, folder by folder: each
// source folder's sorted entries are merged with the target's.
func diff(src, dst *Tree, o diffOptions) []Change {
	var out []Change
	var links map[string]string
	if o.preserve&PreserveHardLinks != 0 {
		links = hardLinks(src)
	}
	contentChanged := map[string]bool{}
	compareEntry := func(dir string, s, d *Entry) {
		if !mirrored(s, o.preserve) {
			return
		}
		rel := ""
		if s != src.root {
			rel = join(dir, s.Name)
		}
		if _, ok := links[rel]; ok {
			return
		}
		c := Change{Path: rel, Kind: s.Kind(), Src: s, Dst: d}
		switch {
		case dst.unreadableAbove(rel):
			return
		case d == nil:
			c.Op = OpAdd
			c.Content = s.Kind() == KindFile
		case d.Kind() != s.Kind():
			c.Op, c.Reason = OpUpdate, ReasonType
			c.Content = s.Kind() == KindFile
		default:
			c.Reason, c.Content = compare(rel, s, d, o)
			if c.Reason == 0 {
				return
			}
			c.Op = OpUpdate
		}
		if c.Content {
			contentChanged[rel] = true
		}
		out = append(out, c)
	}
	if src.root != nil {
		compareEntry("", src.root, dst.root)
	}
	for dir, list := range src.folders {
		merge(list, dst.folders[dir], func(s, d *Entry) {
			if s != nil {
				compareEntry(dir, s, d)
			}
		})
	}
	for rel, leader := range links {
		s, d, ld := src.entry(rel), dst.entry(rel), dst.entry(leader)
		if d != nil && ld != nil && !contentChanged[leader] && d.HasStat && ld.HasStat &&
			d.Dev == ld.Dev && d.Ino == ld.Ino {
			continue
		}
		c := Change{Op: OpAdd, Path: rel, Kind: KindFile, Src: s, Dst: d, LinkTo: leader}
		if d != nil {
			c.Op, c.Reason = OpUpdate, ReasonHardLink
		}
		out = append(out, c)
	}
	out = append(out, deletions(src, dst, out, o)...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// merge calls f for each name of two sorted lists of one folder, with the
// entry of each side (nil on the side that lacks it).
func merge(a, b []host.EntryStat, f func(a, b *Entry)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].Name < b[j].Name:
			f((*Entry)(&a[i]), nil)
			i++
		case i == len(a) || b[j].Name < a[i].Name:
			f(nil, (*Entry)(&b[j]))
			j++
		default:
			f((*Entry)(&a[i]), (*Entry)(&b[j]))
			i++
			j++
		}
	}
}

// mirrored says whether a source entry is copied at all.
func mirrored(e *Entry, p Preserve) bool {
	switch e.Kind() {
	case KindFile, KindDir:
		return true
	case KindSymlink:
		return p&PreserveSymlinks != 0
	}
	return false
}

// compare tells why the target entry d differs from s of the same kind,
// and whether the data must be sent.
func compare(rel string, s, d *Entry, o diffOptions) (r Reason, content bool) {
	if o.preserve&PreserveMode != 0 && s.Kind() != KindSymlink && s.Perm() != d.Perm() {
		r |= ReasonMode
	}
	if o.preserve&PreserveOwner != 0 && s.HasStat && d.HasStat && (s.UID != d.UID || s.GID != d.GID) {
		r |= ReasonOwner
	}
	switch s.Kind() {
	case KindSymlink:
		if s.Link != d.Link {
			r |= ReasonLink
		}
	case KindDir:
		if o.preserve&PreserveTimes != 0 && s.MTime != d.MTime {
			r |= ReasonMTime
		}
	case KindFile:
		if s.Size != d.Size {
			r |= ReasonSize
			content = true
		}
		timeDiffers := s.MTime != d.MTime
		if o.preserve&PreserveTimes == 0 {
			timeDiffers = d.MTime < s.MTime
		}
		if timeDiffers && o.preserve&PreserveTimes != 0 {
			r |= ReasonMTime
		}
		if o.checksum {
			if o.differs[rel] {
				r |= ReasonContent
				content = true
			}
		} else if timeDiffers {
			r |= ReasonMTime
			content = true
		}
		if o.interrupted[rel] {
			r |= ReasonInterrupted
			content = true
		}
	}
	return r, content
}

// hardLinks maps every source file that shares its inode with a file
// whose path sorts before it to that first file.
func hardLinks(src *Tree) map[string]string {
	var shared []string
	src.each(func(dir string, e *Entry) {
		if e.Kind() == KindFile && e.HasStat && e.Nlink >= 2 {
			shared = append(shared, join(dir, e.Name))
		}
	})
	if len(shared) == 0 {
		return nil
	}
	sort.Strings(shared)
	type inode struct{ dev, ino uint64 }
	first := map[inode]string{}
	links := map[string]string{}
	for _, rel := range shared {
		e := src.entry(rel)
		k := inode{e.Dev, e.Ino}
		if leader, ok := first[k]; ok {
			links[rel] = leader
		} else {
			first[k] = rel
		}
	}
	return links
}

// deletions lists target entries with no source counterpart (orphans,
// when asked to delete them; temp files always) and the contents of target
// folders that a type change replaces.
func deletions(src, dst *Tree, changes []Change, o diffOptions) []Change {
	replaced := map[string]bool{}
	for _, c := range changes {
		if c.Reason&ReasonType != 0 && c.Dst.Kind() == KindDir {
			replaced[c.Path] = true
		}
	}
	under := func(rel string) bool {
		for p := parent(rel); ; p = parent(p) {
			if replaced[p] {
				return true
			}
			if p == "" {
				return false
			}
		}
	}
	var out []Change
	for dir, list := range dst.folders {
		merge(src.folders[dir], list, func(s, d *Entry) {
			if s != nil || d == nil {
				return
			}
			rel := join(dir, d.Name)
			if !src.covers(rel) || !dst.covers(rel) || src.unreadableAbove(rel) || dst.unreadableAbove(rel) {
				return
			}
			if d.Kind() == KindSidecar {
				if f := src.entry(sidecarOf(rel)); f == nil || f.Kind() != KindFile {
					out = append(out, Change{Op: OpDelete, Path: rel, Kind: d.Kind(), Dst: d})
				}
				return
			}
			if o.deleteOrphans || d.Kind() == KindTemp || under(rel) {
				out = append(out, Change{Op: OpDelete, Path: rel, Kind: d.Kind(), Dst: d})
			}
		})
	}
	return out
}

// summarize tallies changes; src gives the folders' times for deletions.
func summarize(changes []Change, src *Tree) Summary {
	var s Summary
	oldest := func(t int64) {
		if t > 0 && (s.Oldest == 0 || t < s.Oldest) {
			s.Oldest = t
		}
	}
	for i := range changes {
		c := &changes[i]
		switch c.Op {
		case OpAdd:
			s.Add++
		case OpUpdate:
			s.Update++
		case OpDelete:
			s.Delete++
		}
		s.Bytes += c.Bytes()
		if c.Op == OpDelete {
			for p := parent(c.Path); ; p = parent(p) {
				if e := src.entry(p); e != nil {
					oldest(e.MTime)
					break
				}
				if p == "" {
					break
				}
			}
		} else if c.Kind != KindDir || c.Op == OpAdd {
			oldest(c.Src.MTime)
		}
	}
	return s
}
