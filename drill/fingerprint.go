package drill

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/drover-dr/drover/host"
	"github.com/zeebo/xxh3"
)

// Entry is one file, folder or symlink of a protected object as a
// fingerprint saw it.
type Entry struct {
	// Name is the path below the protected path, "" for the path itself.
	Name string      `json:"name"`
	Mode fs.FileMode `json:"mode"`
	Size int64       `json:"size,omitempty"`
	// MTime (Unix nanoseconds) and Hash (XXH3-128 of the content) are a
	// file's; Link is a symlink's target.
	MTime int64  `json:"mtime,omitempty"`
	Hash  string `json:"hash,omitempty"`
	Link  string `json:"link,omitempty"`
}

// Fingerprints hold, by protected path, the manifest of what it held:
// the path itself first, then what lies below it, by name.
type Fingerprints map[string][]Entry

// Fingerprint reads the protected objects at paths on h (files, folder
// trees, symlinks, never followed), hashing every file: taken before and
// after a drill, Changes between the two tells whether the drill touched
// production. Files are only opened for reading.
func Fingerprint(ctx context.Context, h host.Host, paths ...string) (Fingerprints, error) {
	fp := Fingerprints{}
	for _, p := range paths {
		fi, err := h.Lstat(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("fingerprinting a protected object: %w", err)
		}
		e := host.EntryStat{Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Mode: fi.Mode()}
		if fi.Mode().Type() == fs.ModeSymlink {
			if e.Link, err = h.Readlink(ctx, p); err != nil {
				return nil, err
			}
		}
		var m []Entry
		if m, err = appendEntry(ctx, h, m, p, "", e); err != nil {
			return nil, err
		}
		fp[p] = m
	}
	return fp, nil
}

// appendEntry appends the entry e, at name below root, and, for a folder,
// everything below it.
func appendEntry(ctx context.Context, h host.Host, m []Entry, root, name string, e host.EntryStat) ([]Entry, error) {
	p := path.Join(root, name)
	out := Entry{Name: name, Mode: e.Mode}
	switch e.Mode.Type() {
	case 0:
		out.Size, out.MTime = e.Size, e.MTime
		sum, err := hashFile(ctx, h, p)
		if err != nil {
			return nil, err
		}
		out.Hash = sum
	case fs.ModeSymlink:
		out.Link = e.Link
	}
	m = append(m, out)
	if !e.Mode.IsDir() {
		return m, nil
	}
	entries, err := h.ReadDirStat(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("fingerprinting %s: %w", p, err)
	}
	for _, c := range entries {
		if m, err = appendEntry(ctx, h, m, root, path.Join(name, c.Name), c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func hashFile(ctx context.Context, h host.Host, p string) (string, error) {
	f, err := h.Open(ctx, p)
	if err != nil {
		return "", fmt.Errorf("fingerprinting: %w", err)
	}
	defer f.Close()
	d := xxh3.New()
	if _, err := io.CopyBuffer(d, f, make([]byte, 1<<20)); err != nil {
		return "", fmt.Errorf("fingerprinting %s: %w", p, err)
	}
	sum := d.Sum128().Bytes()
	return hex.EncodeToString(sum[:]), nil
}

// Change is one difference between two fingerprints of a protected path.
type Change struct {
	// Path is the file, folder or symlink that differs.
	Path string
	// What says how, in words.
	What string
}

func (c Change) String() string { return c.Path + ": " + c.What }

// Changes lists what differs between before and after, path by path: an
// entry added, removed, or with another type, mode, size, time, content or
// link target. A path fingerprinted only once is a change too.
func Changes(before, after Fingerprints) []Change {
	var out []Change
	roots := slices.Sorted(func(yield func(string) bool) {
		for p := range before {
			if !yield(p) {
				return
			}
		}
		for p := range after {
			if _, ok := before[p]; !ok && !yield(p) {
				return
			}
		}
	})
	for _, root := range roots {
		b, inB := before[root]
		a, inA := after[root]
		switch {
		case !inA:
			out = append(out, Change{root, "fingerprinted before the drill only"})
			continue
		case !inB:
			out = append(out, Change{root, "fingerprinted after the drill only"})
			continue
		}
		byName := map[string]Entry{}
		for _, e := range a {
			byName[e.Name] = e
		}
		for _, e := range b {
			p := path.Join(root, e.Name)
			n, ok := byName[e.Name]
			delete(byName, e.Name)
			if !ok {
				out = append(out, Change{p, "removed"})
			} else if what := entryChange(e, n); what != "" {
				out = append(out, Change{p, what})
			}
		}
		for _, e := range a {
			if _, ok := byName[e.Name]; ok {
				out = append(out, Change{path.Join(root, e.Name), "added"})
			}
		}
	}
	return out
}

// entryChange says how e became n, "" when it did not change.
func entryChange(e, n Entry) string {
	var what []string
	switch {
	case e.Mode.Type() != n.Mode.Type():
		return "was a " + host.ModeKind(e.Mode) + ", now a " + host.ModeKind(n.Mode)
	case e.Mode != n.Mode:
		what = append(what, fmt.Sprintf("mode %v, was %v", n.Mode, e.Mode))
	}
	if e.Size != n.Size {
		what = append(what, fmt.Sprintf("%d bytes, were %d", n.Size, e.Size))
	}
	if e.Hash != n.Hash {
		what = append(what, "content changed")
	}
	if e.MTime != n.MTime {
		what = append(what, "modification time changed")
	}
	if e.Link != n.Link {
		what = append(what, fmt.Sprintf("link to %q, was %q", n.Link, e.Link))
	}
	return strings.Join(what, ", ")
}
